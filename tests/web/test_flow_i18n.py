"""The flow in Spanish: language choice by ?lang=, cookie and Accept-Language; a Spanish letter."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from actiontool.models import Action
from tests.web.flow_helpers import GOOD, SLUG, compose, count, form_fields, page, rows, text_of


def test_english_is_the_default(client: FlaskClient) -> None:
    doc = page(client.get(f"/c/{SLUG}"))
    assert doc.get("lang") == "en"
    assert "Find your members of Congress" in doc.text_content()


def test_lang_parameter_switches_to_spanish_and_is_remembered(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}?lang=es")
    doc = page(response)
    assert doc.get("lang") == "es"
    text = text_of(response)
    assert "Encuentre a sus miembros del Congreso" in text
    assert "Aprueben la propuesta" in text and "74.702" in text  # the campaign's own Spanish words
    assert "0 cartas escritas de nuestra meta de 10.000" in text  # numbers in the Spanish style
    assert "lang=es" in response.headers["Set-Cookie"]
    assert page(client.get(f"/c/{SLUG}")).get("lang") == "es"  # the cookie keeps the choice


def test_browser_preference_chooses_spanish(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert page(response).get("lang") == "es"


def test_unknown_lang_is_ignored(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}?lang=xx")
    assert page(response).get("lang") == "en"


def test_every_page_has_a_language_switch_that_keeps_the_query(client: FlaskClient) -> None:
    doc = page(client.get(f"/c/{SLUG}/members?zip=53002&ref=p1"))
    links = doc.xpath("//nav[@class='lang-switch']//a")
    assert [a.text_content() for a in links] == ["English", "Español"]
    assert links[1].get("href") == f"/c/{SLUG}/members?zip=53002&ref=p1&lang=es"
    assert links[1].get("lang") == "es"
    missing = page(client.get("/c/nope"))
    assert missing.xpath("//nav[@class='lang-switch']//a")


def test_spanish_errors_and_field_labels(client: FlaskClient) -> None:
    response = client.get(f"/c/{SLUG}/members?zip=12&lang=es")
    assert "Escriba un código postal (ZIP) de cinco dígitos" in text_of(response)


def test_spanish_flow_writes_a_spanish_letter_and_records_the_language(app: Flask,
                                                                        client: FlaskClient) -> None:
    client.get(f"/c/{SLUG}?lang=es")
    doc, fields = compose(client)
    assert "Estimada representante One:" in doc.text_content()
    assert fields["letter_lang"] == "es"
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1"})
    assert response.status_code == 303
    actions, messages = rows(app)
    assert actions[0].lang == "es"
    assert all(m.edited is False for m in messages)
    senator = next(m for m in messages if m.chamber == "senate")
    assert senator.suggested_text.split("\n")[0] in ("Estimada senadora Senior:", "Estimado senador Junior:")
    assert "Le escribo desde Madison, WI, donde vivo" in senator.suggested_text
    assert senator.suggested_text.endswith("Atentamente,\nAna Díaz\nMadison, WI")
    receipt = client.get(response.headers["Location"])
    assert "Esperando a que usted la envíe" in text_of(receipt)


def test_spanish_bad_input_messages(client: FlaskClient) -> None:
    client.get(f"/c/{SLUG}?lang=es")
    _doc, fields = compose(client)
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "email": "nope", "send": "1"})
    assert response.status_code == 422
    text = text_of(response)
    assert "Corrija lo siguiente:" in text
    assert "Escriba un correo electrónico como nombre@ejemplo.com." in text


def test_switching_language_on_the_letter_form_posts_it_back_and_keeps_every_value(
        app: Flask, client: FlaskClient) -> None:
    doc, fields = compose(client, query="&ref=p1")
    button = doc.xpath("//nav[@class='lang-switch']//button[@lang='es']")[0]
    assert button.get("form") == "compose" and button.get("name") == "preview"
    typed = {**GOOD, "personal_message": "Mi primo murió."}
    response = client.post(button.get("formaction"), data={**fields, **typed, "preview": button.get("value")})
    assert response.status_code == 200
    doc = page(response)
    assert doc.get("lang") == "es"
    kept = form_fields(doc)
    # (lxml keeps the newline that starts a textarea, which browsers drop)
    # The e-mail address comes back in its one stored form (the domain lower-cased: actiontool.addresses).
    expected = {n: (v.lower() if n == "email" else v) for n, v in typed.items() if n in kept}
    shown = {n: (kept[n].strip().lower() if n == "email" else kept[n].strip()) for n in typed if n in kept}
    assert shown == expected
    assert kept["first_name"] == "Ana" and kept["city"] == "Madison" and kept["ref"] == "p1"
    assert kept["letter_lang"] == "es"  # the unedited letter follows the interface
    assert kept["suggested_text"].strip().startswith("Le escribo desde Madison, WI")
    assert count(app, Action) == 0


def test_switching_the_letter_language_keeps_an_edited_letter_as_written(client: FlaskClient) -> None:
    doc, fields = compose(client)
    edited = fields["suggested_text"] + "\n\nMy own last line."
    button = doc.xpath("//p[@class='letter-languages']//button[@lang='es']")[0]
    response = client.post(button.get("formaction"), data={**fields, **GOOD, "suggested_text": edited,
                                                           "preview": button.get("value")})
    kept = form_fields(page(response))
    assert kept["letter_lang"] == "es" and kept["suggested_text"].endswith("My own last line.")
    assert kept["first_name"] == "Ana"


def test_letter_shown_in_one_language_and_sent_after_switching_is_not_an_edit(app: Flask,
                                                                              client: FlaskClient) -> None:
    _doc, fields = compose(client)  # shown in English, with English placeholders
    assert "[city]" in fields["suggested_text"]
    client.get(f"/c/{SLUG}?lang=es")  # the constituent switches before sending
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "send": "1"})
    assert response.status_code == 303
    _actions, messages = rows(app)
    assert not any(m.edited for m in messages)
    assert all("As your constituent in Madison, WI" in m.suggested_text for m in messages)


def test_an_error_page_after_a_post_switches_language_on_the_home_page(app: Flask,
                                                                       client: FlaskClient) -> None:
    response = client.post(f"/c/{SLUG}/send", data={"personal_message": "x" * 70000})
    assert response.status_code == 413
    link = page(response).xpath("//nav[@class='lang-switch']//a[@lang='es']/@href")[0]
    assert link == "/?lang=es"


def test_spanish_catalog_is_complete_and_compiled() -> None:
    """Every interface string has a Spanish translation, and the committed .mo matches the .po."""
    from io import BytesIO
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    import actiontool

    folder = Path(actiontool.__file__).parent / "translations"
    with open(folder / "messages.pot", "rb") as f:
        template = read_po(f)
    with open(folder / "es" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale="es")
    missing = [m.id for m in template if m.id and (catalog.get(m.id) is None or not catalog.get(m.id).string)]
    assert missing == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    compiled = BytesIO()
    write_mo(compiled, catalog)
    assert compiled.getvalue() == (folder / "es" / "LC_MESSAGES" / "messages.mo").read_bytes(), \
        "run: pybabel compile -d actiontool/translations"


def test_wtforms_own_messages_follow_the_interface_language(client: FlaskClient) -> None:
    client.get(f"/c/{SLUG}?lang=es")
    _doc, fields = compose(client)
    response = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "first_name": "x" * 101, "send": "1"})
    assert response.status_code == 422
    assert "Field cannot be longer" not in text_of(response)
    assert "100 caracteres" in text_of(response)


def test_lang_choice_is_remembered_across_the_home_redirect(client: FlaskClient) -> None:
    response = client.get("/?lang=es")
    assert response.status_code == 302
    assert page(client.get(response.headers["Location"])).get("lang") == "es"


def test_spanish_reader_can_choose_an_english_letter(app: Flask, client: FlaskClient) -> None:
    client.get(f"/c/{SLUG}?lang=es")
    doc, fields = compose(client)
    button = doc.xpath("//p[@class='letter-languages']//button[@lang='en']")[0]
    response = client.post(button.get("formaction"), data={**fields, "preview": button.get("value")})
    doc = page(response)
    assert doc.get("lang") == "es"  # the interface stays Spanish
    assert doc.xpath("//pre[@class='letter']")[0].text_content().startswith("Dear Representative One,")
    fields = {**form_fields(doc), **GOOD, "send": "1"}
    assert fields["letter_lang"] == "en"
    assert client.post(f"/c/{SLUG}/send", data=fields).status_code == 303
    actions, messages = rows(app)
    assert actions[0].lang == "es"
    assert all(m.suggested_text.startswith("Dear ") and not m.edited for m in messages)


def test_a_letter_shown_filled_after_a_preview_is_no_edit_when_the_details_change(
        app: Flask, client: FlaskClient) -> None:
    _doc, fields = compose(client)
    shown = client.post(f"/c/{SLUG}/send", data={**fields, **GOOD, "city": "Verona", "preview": "1"})
    fields = form_fields(page(shown))
    assert "As your constituent in Verona, WI" in fields["suggested_text"]  # filled, not [city]
    response = client.post(f"/c/{SLUG}/send", data={**fields, "city": "Madison", "send": "1"})
    assert response.status_code == 303
    _actions, messages = rows(app)
    assert not any(m.edited for m in messages)  # the box came back as shown: the suggested letter
    assert all("As your constituent in Madison, WI" in m.suggested_text for m in messages)


def test_each_greeting_stands_alone_without_a_separator_after_its_comma_or_colon(client: FlaskClient) -> None:
    for lang, ending in (("en", ","), ("es", ":")):
        doc, _fields = compose(client, query=f"&lang={lang}")
        (para,) = doc.xpath('//p[@class="greetings"]')
        greetings = [g.text_content() for g in para.xpath('span[@class="greeting"]')]
        assert len(greetings) == 3 and all(g.endswith(ending) for g in greetings)
        assert "·" not in para.text_content()  # a bullet after "Dear Senator Baldwin," read as a glitch
