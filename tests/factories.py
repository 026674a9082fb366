"""Factories for tests: campaign files, submissions (an action and its messages), and rows written directly.

`submission(...)` builds what compose hands to `services.submit`. `write_submission(...)` inserts an action
and its messages the way services/submit does (INSERT ... ON CONFLICT DO NOTHING on the dedup key, RETURNING
what was actually inserted) and calls the roll-up hooks in the same transaction, so the counts tests exercise
exactly the contract submit relies on, at many rows a second.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actiontool.models import Action, Message, utcnow
from actiontool.services import counts, stats
from actiontool.services.seed import SeedMember
from actiontool.services.submit import ConstituentDetails, OutgoingMessage, Submission

# The organizer account's password in every test that signs in.
PASSWORD = "correct horse battery staple"

# Campaigns -------------------------------------------------------------------------------------------------

CAMPAIGN_FILE = """\
slug: {slug}
status: live
targets: both
editable: true
goal: 100
languages: [en]
loc_topics: [Crime and Law Enforcement, Health]
title: Test campaign
ask: Ask them to act.
subject: Please act
background: [A fact.]
letter: detect-and-defeat.en.txt.j2
{bill}delivery:
  house: {{channel: {house}}}
  senate:
    channel: {senate}
{senate_to}"""


def write_campaign(directory: Path, slug: str = "test-delivery", *, house: str = "cwc", senate: str = "smtp",
                   bill: bool = True) -> Path:
    """Write a campaign file that delivers House letters by `house` and Senate letters by `senate`."""
    directory.mkdir(parents=True, exist_ok=True)
    senate_to = ("    to:\n      default: senate-desk@example.org\n"
                 "      by_bioguide: {S000001: senator-one@example.org}\n") if senate == "smtp" else ""
    text = CAMPAIGN_FILE.format(slug=slug, house=house, senate=senate, senate_to=senate_to,
                                bill="bill: {congress: 119, type: hr, number: 1234}\n" if bill else "")
    path = directory / f"{slug}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# Members ---------------------------------------------------------------------------------------------------

MEMBERS: tuple[SeedMember, ...] = (
    SeedMember("O000001", "Rep. Ohio One", "Representative", "house", "OH", 1),
    SeedMember("O000002", "Rep. Ohio Two", "Representative", "house", "OH", 2),
    SeedMember("O000003", "Rep. Ohio Three", "Representative", "house", "OH", 3),
    SeedMember("S000001", "Sen. Ohio A", "Senator", "senate", "OH", None),
    SeedMember("S000002", "Sen. Ohio B", "Senator", "senate", "OH", None),
    SeedMember("A000001", "Rep. Alaska", "Representative", "house", "AK", 0),
    SeedMember("S000003", "Sen. Alaska A", "Senator", "senate", "AK", None),
    SeedMember("W000001", "Rep. Wisconsin One", "Representative", "house", "WI", 1),
    SeedMember("W000002", "Rep. Wisconsin Two", "Representative", "house", "WI", 2),
    SeedMember("S000004", "Sen. Wisconsin A", "Senator", "senate", "WI", None),
)


def with_senators(house: SeedMember) -> list[SeedMember]:
    """Return `house` and the senators of its state from MEMBERS: whom one constituent writes to."""
    return [house] + [m for m in MEMBERS if m.chamber == "senate" and m.state == house.state]


# Submissions -----------------------------------------------------------------------------------------------

def outgoing(bioguide: str, *, chamber: str = "senate", state: str = "WI", district: int | None = None,
             channel: str = "smtp", name: str | None = None, title: str = "Senator",
             subject: str = "Please act", letter: str | None = None, edited: bool = False) -> OutgoingMessage:
    """Return one letter to write to the outbox; the letter greets the member by title and name."""
    name = name or f"Member {bioguide}"
    if letter is None:
        letter = f"Dear {title} {name},\n\nPlease act."
    return OutgoingMessage(bioguide=bioguide, member_name=name, member_title=title, chamber=chamber,
                           state=state, district=district, channel=channel, subject=subject,
                           suggested_text=letter, edited=edited)


def outgoing_to(member: SeedMember, **fields: Any) -> OutgoingMessage:
    """Return one letter to `member`."""
    return outgoing(member.bioguide, chamber=member.chamber, state=member.state, district=member.district,
                    name=member.name, title=member.title, **fields)


def constituent(email: str = "jane@example.org", **fields: Any) -> ConstituentDetails:
    """Return a constituent's details; `fields` replace the defaults."""
    details: dict[str, Any] = {"first_name": "Jane", "last_name": "Doe", "address1": "1 Main St",
                               "city": "Madison", "zip": "53703", **fields}
    return ConstituentDetails(email=email, **details)


def submission(messages: Iterable[OutgoingMessage], *, email: str = "jane@example.org", campaign: str = "c",
               lang: str = "en", ref: str | None = None, state: str = "WI", district_label: str = "WI-2",
               personal: str | None = None, wants_receipt_email: bool = False,
               **constituent_fields: Any) -> Submission:
    """Return one constituent's submission of `messages`, as compose hands it to the submit service."""
    return Submission(campaign=campaign, lang=lang, ref=ref, state=state, district_label=district_label,
                      constituent=constituent(email, **constituent_fields), constituent_text=personal,
                      wants_receipt_email=wants_receipt_email, messages=list(messages))


# Rows written directly -------------------------------------------------------------------------------------

def _insert(session: Session, table: Table) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


def write_submission(session: Session, campaign: str, email: str, house: SeedMember, *, day: date,
                     ref: str | None, channel: str = "cwc", status: str = "queued") -> int:
    """Insert one action with messages to `house` and its state's senators; return messages inserted."""
    key = hashlib.sha256(email.encode()).hexdigest()
    action = session.execute(_insert(session, Action.__table__).values(  # type: ignore[arg-type]
        receipt_token=uuid.uuid4().hex, campaign=campaign, created_at=utcnow(), created_day=day, ref=ref,
        lang="en", district_label=stats.district_label(house.state, house.district), state=house.state,
        wants_receipt_email=False,
    ).returning(*Action.__table__.c)).mappings().one()  # type: ignore[attr-defined]
    counts.record_new_action(session, action)
    rows = [{"id": uuid.uuid4().hex, "action_id": action["id"], "campaign": campaign, "constituent_key": key,
             "bioguide": m.bioguide, "member_name": m.name, "member_title": m.title, "chamber": m.chamber,
             "state": m.state, "district": m.district, "ref": ref, "channel": channel, "status": status,
             "subject": "s", "edited": False, "attempts": 0, "created_at": utcnow(), "created_day": day,
             "updated_at": utcnow()} for m in with_senators(house)]
    table: Table = Message.__table__  # type: ignore[assignment]
    inserted = session.execute(_insert(session, table).values(rows).on_conflict_do_nothing(
        index_elements=["campaign", "constituent_key", "bioguide"]).returning(*table.c)).mappings().all()
    counts.record_new_messages(session, inserted)
    session.commit()
    return len(inserted)
