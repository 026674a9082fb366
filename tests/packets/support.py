"""Helpers for the packet tests: letters written through the submit service, and brute-force recounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool.models import PACKET, QUEUED, STATUSES, Action, Message
from actiontool.services import counts
from actiontool.services.packet_counts import place
from actiontool.services.submit import ConstituentDetails, OutgoingMessage, Submission, submit

CAMPAIGN = "packets-test"
# (bioguide, name, title, chamber, state, district): members of the tiny dataset (tests/districts/tiny.py).
RITA = ("R000001", "Rita One", "Representative", "house", "WI", 1)
RON = ("R000002", "Ron Two", "Representative", "house", "WI", 2)
WANDA = ("S000001", "Wanda Senior", "Senator", "senate", "WI", None)
MAX = ("S000004", "Max Appointed", "Senator", "senate", "MN", None)  # term ended 2026-11-03


def write_letter(session: Session, email: str, members: tuple[tuple[Any, ...], ...] = (RITA,), *,
                 channel: str = PACKET, campaign: str = CAMPAIGN, first: str = "Jane", last: str = "Doe",
                 city: str = "Oneville", zip_code: str = "53001", words: str | None = "My own words.",
                 day: datetime | None = None) -> str:
    """Write one constituent's letters to `members` through the submit service; return the receipt token."""
    submission = Submission(
        campaign=campaign, lang="en", ref=None, state=members[0][4], district_label=None,
        constituent=ConstituentDetails(email=email, first_name=first, last_name=last, address1="1 Main St",
                                       city=city, zip=zip_code, prefix=None, phone="608-555-0100"),
        constituent_text=words, wants_receipt_email=False,
        messages=[OutgoingMessage(bioguide=b, member_name=n, member_title=t, chamber=c, state=s, district=d,
                                  channel=channel, subject="Please act", edited=False,
                                  suggested_text=f"Dear {t} {n},\n\nPlease act.\n\n{first} {last}")
                  for b, n, t, c, s, d in members])
    return submit(session, submission, now=day or datetime.now(UTC)).receipt_token


def brute_waiting(session: Session, campaign: str = CAMPAIGN) -> dict[str, dict[str, Any]]:
    """Recount the waiting letters per member straight from the messages and actions."""
    rows = session.execute(
        select(Message.bioguide, Message.created_day, Action.zip, Action.city)
        .join(Action, Action.id == Message.action_id)
        .where(Message.campaign == campaign, Message.channel == PACKET, Message.status == QUEUED,
               Message.packet_id.is_(None))).all()
    out: dict[str, dict[str, Any]] = {}
    for bioguide, day, zip_code, city in rows:
        entry = out.setdefault(bioguide, {"letters": 0, "days": set(), "zips": {}, "cities": {}})
        entry["letters"] += 1
        entry["days"].add(day)
        z, c = place(zip_code, city)
        entry["zips"][z] = entry["zips"].get(z, 0) + 1
        entry["cities"][c] = entry["cities"].get(c, 0) + 1
    return out


def brute_status_counts(session: Session, campaign: str = CAMPAIGN) -> dict[str, int]:
    """Count the campaign's messages per status straight from the messages table."""
    found = dict(session.execute(select(Message.status, func.count()).where(Message.campaign == campaign)
                                 .group_by(Message.status)).all())
    return {s: int(found.get(s, 0)) for s in STATUSES}


def rollup_status_counts(session: Session, campaign: str = CAMPAIGN) -> dict[str, int]:
    """Return the campaign's totals row per status (what the dashboard and counter read)."""
    totals = counts.campaign_totals(session, campaign)
    return {s: int(totals[s]) for s in STATUSES}
