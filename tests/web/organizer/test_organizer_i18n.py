"""Organizer pages in the reader's language: the frame, sign-in, data notice, delivery and audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actiontool import db
from actiontool.models import Message
from tests.factories import MEMBERS

SLUG = "detect-and-defeat"


def text(page: str) -> str:
    return " ".join(page.split())


def test_sign_in_page_and_its_errors_are_in_spanish(client: FlaskClient, organizer: str) -> None:
    page = client.get("/organizer/login?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Acceso de organizadores" in page and "Contraseña" in page and "Iniciar sesión" in page
    assert "Organizer sign-in" not in page and ">Password<" not in page
    wrong = client.post("/organizer/login", data={"email": organizer, "password": "wrong password!!"})
    assert wrong.status_code == 401
    assert "Correo electrónico o contraseña incorrectos." in wrong.get_data(as_text=True)
    empty = client.post("/organizer/login", data={"email": "", "password": ""})
    assert empty.status_code == 400
    assert "Escriba su correo electrónico y su contraseña." in empty.get_data(as_text=True)


def test_english_stays_the_default(client: FlaskClient) -> None:
    page = client.get("/organizer/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Organizer sign-in" in page
    assert 'href="/organizer/login?lang=es"' in page  # the switch, a plain link that works without JavaScript


@pytest.mark.parametrize("today,expected", [
    (date(2026, 6, 20), "Datos de distritos: 119.º Congreso, miembros a fecha de 2026-06-15."),
    (date(2026, 12, 3), "Ese Congreso termina el 2027-01-03 (dentro de 31 días)"),
    (date(2027, 1, 2), "Ese Congreso termina el 2027-01-03 (dentro de 1 día)"),
    (date(2027, 1, 3), "que terminó el 2027-01-03: los miembros y los mapas pueden estar desactualizados"),
])
def test_header_and_data_notice_are_in_spanish(signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch,
                                               today: date, expected: str) -> None:
    from actiontool.web import organizer

    monkeypatch.setattr(organizer, "_today", lambda: today)
    page = text(signed_in.get("/organizer/?lang=es").get_data(as_text=True))
    assert '<html lang="es">' in page
    assert expected in page
    assert "Registro de auditoría" in page and "Cerrar la sesión de org@example.org" in page
    for english in ("Audit log", "Sign out", "District data", "members as of", "Skip to main content"):
        assert english not in page
    assert "<code>actiontool data build</code>" in page or today == date(2026, 6, 20)


def test_delivery_and_audit_pages_are_in_spanish(signed_in: FlaskClient, app: Flask,
                                                 writer: Callable[..., int]) -> None:
    with db.session_scope(app) as s:
        writer(s, SLUG, "a@example.org", MEMBERS[0], day=date(2026, 3, 10), ref=None, status="failed")
        statuses = s.execute(select(Message.status)).scalars().all()
    assert statuses == ["failed"] * 3  # a member and two senators
    page = text(signed_in.get(f"/organizer/c/{SLUG}/delivery?lang=es").get_data(as_text=True))
    assert "Mensajes fallidos (3)" in page and ">Reintentar</button>" in page and "Volver al panel" in page
    assert 'aria-label="Reintentar el mensaje a ' in page
    for english in (">Retry<", "Failed messages", "Waiting on constituents", "Back to the dashboard",
                    "Attempts"):
        assert english not in page
    audit = text(signed_in.get("/organizer/audit?lang=es").get_data(as_text=True))
    assert "<h1>Registro de auditoría</h1>" in audit and "Cuándo (UTC)" in audit
    assert "Append-only" not in audit and ">Who<" not in audit


def test_overview_names_the_campaign_status_in_spanish(signed_in: FlaskClient) -> None:
    row = signed_in.get("/organizer/?lang=es").get_data(as_text=True).split(f'id="campaign-{SLUG}"', 1)[1]
    assert '<td data-status="live">activa</td>' in row.split("</tr>", 1)[0]
    english = signed_in.get("/organizer/?lang=en").get_data(as_text=True)
    assert '<td data-status="live">live</td>' in english
