"""Organizer routes refuse requests another site started (Sec-Fetch-Site), before any read or write."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.organizer.test_organizer_web import SLUG, audit_kinds, fill

EXPORTS = [f"/organizer/c/{SLUG}/actions.csv?personal=1", f"/organizer/c/{SLUG}/export.csv?by=state"]
PAGES = ["/organizer/", f"/organizer/c/{SLUG}", f"/organizer/c/{SLUG}/delivery", "/organizer/audit",
         "/organizer/login"]


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
@pytest.mark.parametrize("url", EXPORTS)
def test_an_export_another_site_starts_is_refused_and_not_audited(
        signed_in: FlaskClient, app: Flask, writer: Callable[..., int], url: str, site: str) -> None:
    fill(app, writer)
    before = audit_kinds(app)
    response = signed_in.get(url, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "opened from another site" in response.get_data(as_text=True)
    assert "example.org" not in response.get_data(as_text=True)  # no personal data in the refusal
    assert audit_kinds(app) == before


@pytest.mark.parametrize("site", ["same-origin", "none", None])
@pytest.mark.parametrize("url", EXPORTS)
def test_an_export_from_our_own_pages_a_bookmark_or_an_old_client_works(
        signed_in: FlaskClient, app: Flask, writer: Callable[..., int], url: str, site: str | None) -> None:
    fill(app, writer)
    headers = {"Sec-Fetch-Site": site} if site else {}
    response = signed_in.get(url, headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    response.get_data()  # the action list streams; its audit row is written before
    assert audit_kinds(app)[-1] == "export"


@pytest.mark.parametrize("url", PAGES)
def test_every_organizer_page_refuses_another_site(signed_in: FlaskClient, url: str) -> None:
    assert signed_in.get(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert signed_in.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_a_cross_site_form_post_is_refused_before_the_sign_in_is_tried(
        client: FlaskClient, organizer: str, app: Flask) -> None:
    before = audit_kinds(app)
    response = client.post("/organizer/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    response = client.post("/organizer/login", data={"email": organizer, "password": "wrong"},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert audit_kinds(app) == before


def test_public_pages_still_answer_other_sites(client: FlaskClient) -> None:
    assert client.get(f"/c/{SLUG}", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
