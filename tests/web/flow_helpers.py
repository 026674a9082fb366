"""Helpers for the flow tests: parse pages, fill the letter form, count rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import Action, Message
from actiontool.resources import data_dir

SLUG = "detect-and-defeat"
GOOD = {
    "prefix": "",
    "first_name": "Ana",
    "last_name": "Díaz",
    "email": "Ana@Example.com",
    "address1": "1 Main St",
    "city": "Madison",
    "zip": "53001",
    "phone": "",
    "personal_message": "",
}


def page(response: Any) -> Any:
    """Return the response body as an lxml document."""
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(response: Any) -> str:
    """Return the visible text of a page, whitespace collapsed."""
    return " ".join(page(response).text_content().split())


def form_fields(doc: Any, action_contains: str = "/send") -> dict[str, str]:
    """Return the named fields of the form whose action contains `action_contains`, as sent."""
    form = next(f for f in doc.forms if action_contains in (f.action or ""))
    values: dict[str, str] = {}
    for el in form.inputs:
        name = el.get("name")
        if not name:
            continue
        if el.tag == "input" and el.get("type") in ("checkbox", "radio"):
            if el.checked:
                values[name] = el.get("value") or "on"
            continue
        if el.tag == "input" and el.get("type") == "submit":
            continue
        if el.tag == "button":
            continue
        values[name] = el.value or ""
    return values


def compose(client: FlaskClient, zip_code: str = "53001", *, query: str = "", **extra: str) -> Any:
    """Open the members step for `zip_code` and return (its document, the form's fields)."""
    response = client.get(f"/c/{SLUG}/members?zip={zip_code}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = page(response)
    return doc, form_fields(doc)


def send(client: FlaskClient, zip_code: str = "53001", *, query: str = "", **changes: str) -> Any:
    """Fill the letter form with good details plus `changes` and send it."""
    _doc, fields = compose(client, zip_code, query=query)
    data = {**fields, **GOOD, "zip": zip_code, "send": "1"}
    data.update(changes)
    return client.post(f"/c/{SLUG}/send", data=data)


def count(app: Flask, model: Any) -> int:
    """Return how many rows of `model` exist."""
    with app.app_context():
        return db.get_session().execute(select(func.count()).select_from(model)).scalar_one()


def rows(app: Flask) -> tuple[list[Action], list[Message]]:
    """Return every action and message."""
    with app.app_context():
        session = db.get_session()
        return (list(session.execute(select(Action)).scalars()),
                list(session.execute(select(Message).order_by(Message.chamber, Message.bioguide)).scalars()))


def campaign_variant(folder: Path, slug: str, **replace: str) -> Path:
    """Write a copy of the default campaign under a new slug with some lines replaced."""
    text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"slug: {SLUG}", f"slug: {slug}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / f"{slug}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
