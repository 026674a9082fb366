"""Each count has one meaning everywhere: written (all but failed), sent (delivered + handed off), delivered.

One fixture puts messages in every status, through the outbox's own status changes, and every place that
shows a count (stats, count API, embed, campaign page, organizer pages, `actiontool stats`) must agree.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from actiontool import create_app, db
from actiontool.cli import main
from actiontool.models import DELIVERED, FAILED, HANDED_OFF, Action, Message
from actiontool.resources import data_dir
from actiontool.services import counts, organizers, stats
from actiontool.services.outbox import set_status
from actiontool.services.stats import Filters
from tests.factories import MEMBERS, PASSWORD

SLUG = "detect-and-defeat"
DAY = date(2026, 3, 2)
OHIO_HOUSE = [m for m in MEMBERS if m.state == "OH" and m.chamber == "house"]
REF = "ohio-parents"

# Each submission writes to one Ohio representative and both Ohio senators; its three messages then move
# to these statuses (in bioguide order). Every status appears.
PLAN: list[tuple[str, str | None, tuple[str, str, str]]] = [
    ("a@example.org", REF, ("delivered", "handed_off", "failed")),
    ("b@example.org", REF, ("queued", "needs_constituent", "failed")),
    ("c@example.org", REF, ("sending", "handed_off", "handed_off")),
    ("d@example.org", None, ("delivered", "delivered", "failed")),
    ("e@example.org", None, ("needs_constituent", "handed_off", "failed")),
    ("f@example.org", None, ("queued", "failed", "failed")),
]
# By hand from PLAN: 18 messages, 6 failed; delivered 3 and handed off 4.
WRITTEN, SENT, DELIVERED_N = 12, 7, 3
# The ohio-parents source alone: 9 messages, 2 failed; delivered 1 and handed off 3.
REF_WRITTEN, REF_SENT, REF_DELIVERED = 7, 4, 1


def fill_every_status(app: Flask, writer: Callable[..., int]) -> None:
    """Write PLAN's submissions as queued messages, then move each through set_status."""
    for i, (email, ref, statuses) in enumerate(PLAN):
        with db.session_scope(app) as s:
            assert writer(s, SLUG, email, OHIO_HOUSE[i % len(OHIO_HOUSE)], day=DAY, ref=ref) == 3
            action_id = s.execute(select(func.max(Action.id))).scalar_one()
            messages = s.execute(select(Message).where(Message.action_id == action_id)
                                 .order_by(Message.bioguide)).scalars().all()
            for message, status in zip(messages, statuses, strict=True):
                if status != "queued":
                    set_status(s, message, status)
            s.commit()


def brute_force(app: Flask, ref: str | None = None) -> dict[str, int]:
    """Recount written, sent and delivered straight from the messages table."""
    with db.session_scope(app) as s:
        where: list[Any] = [Message.campaign == SLUG]
        if ref is not None:
            where.append(Message.ref == ref)

        def n(*clauses: Any) -> int:
            return s.execute(select(func.count()).select_from(Message).where(*where, *clauses)).scalar_one()

        return {"written": n(Message.status != FAILED),
                "sent": n(Message.status.in_([DELIVERED, HANDED_OFF])),
                "delivered": n(Message.status == DELIVERED)}


@pytest.fixture
def filled(app: Flask, writer: Callable[..., int]) -> Flask:
    """Return the app with PLAN's messages written."""
    fill_every_status(app, writer)
    return app


def test_written_sent_and_delivered_each_have_one_meaning(filled: Flask) -> None:
    expected = {"written": WRITTEN, "sent": SENT, "delivered": DELIVERED_N}
    expected_source = {"written": REF_WRITTEN, "sent": REF_SENT, "delivered": REF_DELIVERED}
    assert brute_force(filled) == expected and brute_force(filled, REF) == expected_source
    with db.session_scope(filled) as s:
        totals = stats.totals(s, SLUG)
        assert {k: totals[k] for k in expected} == expected
        assert totals["messages"] == len(PLAN) * 3  # every message, failed ones too
        source = stats.totals(s, SLUG, Filters(ref=REF))
        assert {k: source[k] for k in expected} == expected_source
        counts.rebuild(s, SLUG)  # recomputed from the messages, the roll-ups say the same
        assert {k: stats.totals(s, SLUG)[k] for k in expected} == expected


def test_grouped_rows_carry_written_and_sent(filled: Flask) -> None:
    with db.session_scope(filled) as s:
        rows = {r["key"]: r for r in stats.by(s, SLUG, "source")}
        by_status = {r["key"]: r for r in stats.by(s, SLUG, "status")}
        by_sent = [r["key"] for r in stats.by(s, SLUG, "source", sort="sent", descending=True)]
    assert (rows[REF]["written"], rows[REF]["sent"], rows[REF]["delivered"]) == (REF_WRITTEN, REF_SENT,
                                                                                REF_DELIVERED)
    assert (rows["(none)"]["written"], rows["(none)"]["sent"]) == (WRITTEN - REF_WRITTEN, SENT - REF_SENT)
    assert by_status["failed"]["written"] == 0 and by_status["handed_off"]["sent"] == 4
    assert by_sent == [REF, "(none)"]  # 4 sent against 3


def test_count_api_adds_the_three_counts_and_keeps_messages(filled: Flask) -> None:
    body = filled.test_client().get(f"/api/v1/campaigns/{SLUG}/count").get_json()
    assert body["messages"] == WRITTEN  # what existing embeds read: every message except failed ones
    assert (body["written"], body["sent"], body["delivered"]) == (WRITTEN, SENT, DELIVERED_N)
    assert body["counter"] == {"show": "written", "value": WRITTEN, "visible": True}
    assert "ref" not in body


def test_count_api_gives_one_sources_own_count(filled: Flask) -> None:
    client = filled.test_client()
    body = client.get(f"/api/v1/campaigns/{SLUG}/count?ref={REF}").get_json()
    assert (body["written"], body["sent"], body["delivered"]) == (REF_WRITTEN, REF_SENT, REF_DELIVERED)
    assert body["ref"] == REF and body["messages"] == REF_WRITTEN
    assert body["actions"] == sum(1 for _, ref, _ in PLAN if ref == REF)
    nobody = client.get(f"/api/v1/campaigns/{SLUG}/count?ref=nobody").get_json()
    assert (nobody["written"], nobody["actions"], nobody["ref"]) == (0, 0, "nobody")
    bad = client.get(f"/api/v1/campaigns/{SLUG}/count?ref=%3Cscript%3E")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_ref"


def test_source_counts_are_cached_like_the_campaign_count(filled: Flask, writer: Callable[..., int]) -> None:
    client = filled.test_client()
    assert client.get(f"/embed/{SLUG}?ref={REF}&count=ref").status_code == 200
    with db.session_scope(filled) as s:
        writer(s, SLUG, "g@example.org", OHIO_HOUSE[0], day=DAY, ref=REF)
    cached = client.get(f"/api/v1/campaigns/{SLUG}/count?ref={REF}").get_json()
    assert cached["written"] == REF_WRITTEN
    filled.config["COUNT_CACHE_SECONDS"] = 0
    filled.extensions["actiontool.count_cache"].clear()
    assert client.get(f"/api/v1/campaigns/{SLUG}/count?ref={REF}").get_json()["written"] == REF_WRITTEN + 3


def test_embed_words_the_written_count_by_its_meaning(filled: Flask) -> None:
    html = filled.test_client().get(f"/embed/{SLUG}").get_data(as_text=True)
    assert f'id="embed-messages">{WRITTEN}</strong>' in html
    assert "letters written" in html and not re.search(r"\bsent\b", html, re.I)
    assert "<progress" in html


def test_embed_shows_a_sources_own_count_when_asked(filled: Flask) -> None:
    client = filled.test_client()
    own = client.get(f"/embed/{SLUG}?ref={REF}&count=ref").get_data(as_text=True)
    assert f'id="embed-messages">{REF_WRITTEN}</strong>' in own
    assert "letters written through this site" in own
    assert "<progress" not in own  # a source's share is not progress toward the campaign's goal
    assert f"/c/{SLUG}?ref={REF}" in own
    campaign_wide = client.get(f"/embed/{SLUG}?ref={REF}").get_data(as_text=True)
    assert f'id="embed-messages">{WRITTEN}</strong>' in campaign_wide
    no_ref = client.get(f"/embed/{SLUG}?count=ref").get_data(as_text=True)  # nothing to narrow to
    assert f'id="embed-messages">{WRITTEN}</strong>' in no_ref


def test_embed_speaks_spanish_from_the_catalog(filled: Flask) -> None:
    html = filled.test_client().get(f"/embed/{SLUG}?lang=es&ref={REF}&count=ref").get_data(as_text=True)
    assert "cartas escritas desde este sitio" in html
    assert "Escriba a sus miembros del Congreso" in html
    assert "enviad" not in html


def test_campaign_page_counts_written_letters_by_default(filled: Flask) -> None:
    html = filled.test_client().get(f"/c/{SLUG}").get_data(as_text=True)
    assert f'class="count">{WRITTEN}</strong>' in html
    assert 'data-count-field="messages"' in html and "letters written toward our goal" in html


# A campaign whose counter shows the sent count ------------------------------------------------------------

@pytest.fixture
def counter_app(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Callable[[str], Flask]]:
    """Return a factory: an app whose campaign file has the given `counter:` block (YAML)."""
    made: list[Flask] = []

    def make(counter: str) -> Flask:
        folder = tmp_path / f"campaigns{len(made)}"
        folder.mkdir()
        text = (data_dir() / "campaigns" / f"{SLUG}.yaml").read_text(encoding="utf-8")
        (folder / f"{SLUG}.yaml").write_text(text.rstrip("\n") + "\n" + counter, encoding="utf-8")
        application = create_app({**app_config, "CAMPAIGNS_DIR": str(folder)})
        application.instance_path = str(tmp_path / "instance")
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine().dispose()


def test_counter_can_show_the_sent_count(counter_app: Callable[[str], Flask],
                                         writer: Callable[..., int]) -> None:
    app = counter_app("counter:\n  show: sent\n  minimum: 5\n")
    fill_every_status(app, writer)
    client = app.test_client()
    page = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert f'class="count">{SENT}</strong>' in page
    assert 'data-count-field="sent"' in page and "letters sent to offices toward our goal" in page
    assert client.get(f"/api/v1/campaigns/{SLUG}/count").get_json()["counter"] == {
        "show": "sent", "value": SENT, "visible": True}
    embed = client.get(f"/embed/{SLUG}").get_data(as_text=True)
    assert f'id="embed-messages">{SENT}</strong>' in embed and "letters sent to offices" in embed
    spanish = client.get(f"/embed/{SLUG}?lang=es").get_data(as_text=True)
    assert "cartas enviadas a las oficinas" in spanish
    # The source has 4 sent, under the minimum of 5: its counter is hidden, the button stays.
    own = client.get(f"/embed/{SLUG}?ref={REF}&count=ref").get_data(as_text=True)
    assert "embed-messages" not in own and "embed-button" in own
    assert client.get(f"/api/v1/campaigns/{SLUG}/count?ref={REF}").get_json()["counter"] == {
        "show": "sent", "value": REF_SENT, "visible": False}


def test_counter_is_hidden_below_the_minimum(counter_app: Callable[[str], Flask],
                                             writer: Callable[..., int]) -> None:
    app = counter_app("counter:\n  minimum: 13\n")  # written is 12
    fill_every_status(app, writer)
    client = app.test_client()
    page = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert "data-count-url" not in page and 'class="count"' not in page
    assert "zip" in page  # the rest of the page is there
    embed = client.get(f"/embed/{SLUG}").get_data(as_text=True)
    assert "embed-messages" not in embed and "<progress" not in embed and "embed-button" in embed
    body = client.get(f"/api/v1/campaigns/{SLUG}/count").get_json()
    assert body["counter"] == {"show": "written", "value": WRITTEN, "visible": False}
    assert body["messages"] == WRITTEN  # the numbers stay public; only the counter hides


# Organizer pages and the terminal -------------------------------------------------------------------------

def test_organizer_pages_show_written_sent_and_delivered(filled: Flask) -> None:
    with db.session_scope(filled) as s:
        organizers.create(s, "org@example.org", PASSWORD)
    client = filled.test_client()
    client.post("/organizer/login", data={"email": "org@example.org", "password": PASSWORD})
    html = client.get(f"/organizer/c/{SLUG}").get_data(as_text=True)
    assert f'id="total-written">{WRITTEN}<' in html
    assert f'id="total-sent">{SENT}<' in html
    assert f'id="total-delivered">{DELIVERED_N}<' in html
    assert f'value="{WRITTEN}"' in html.split('id="goal-progress"', 1)[1].split(">", 1)[0]
    index = client.get("/organizer/").get_data(as_text=True)
    row = index.split(f'id="campaign-{SLUG}"', 1)[1].split("</tr>", 1)[0]
    cells = dict(re.findall(r'data-count="([a-z-]+)">([^<]*)<', row))
    assert (cells["actions"], cells["written"], cells["sent"]) == (str(len(PLAN)), str(WRITTEN), str(SENT))
    table = client.get(f"/organizer/c/{SLUG}/export.csv?by=source").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(table)))
    assert {r["source"]: (r["written"], r["sent"]) for r in rows} == {
        REF: (str(REF_WRITTEN), str(REF_SENT)), "(none)": (str(WRITTEN - REF_WRITTEN), str(SENT - REF_SENT))}


def test_stats_command_shows_the_three_counts(filled: Flask) -> None:
    runner = filled.test_cli_runner()
    result = runner.invoke(main, ["stats", SLUG, "--csv"])
    assert result.exit_code == 0, result.output
    measures = dict(list(csv.reader(io.StringIO(result.output)))[1:])
    assert (measures["written"], measures["sent"], measures["delivered"]) == (
        str(WRITTEN), str(SENT), str(DELIVERED_N))
    text = runner.invoke(main, ["stats", SLUG, "--ref", REF])
    assert text.exit_code == 0, text.output
    lines = {line.split()[0]: line.split()[1] for line in text.output.splitlines()[1:] if line.split()[1:]}
    assert (lines["written"], lines["sent"], lines["delivered"]) == (
        str(REF_WRITTEN), str(REF_SENT), str(REF_DELIVERED))
