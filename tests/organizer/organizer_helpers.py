"""Helpers for the organizer tests: a tiny set of members and a writer that behaves like submit.

`write_submission` inserts an action and its messages the way services/submit does (INSERT ... ON CONFLICT
DO NOTHING on the dedup key, RETURNING what was actually inserted) and calls the roll-up hooks in the same
transaction, so the counts tests exercise exactly the contract submit relies on.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from actiontool.models import Action, Message, utcnow
from actiontool.services import counts
from actiontool.services.seed import SeedMember

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
PASSWORD = "correct horse battery staple"


def _insert(session: Session, table: Table) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


def write_submission(session: Session, campaign: str, email: str, house: SeedMember, *, day: date,
                     ref: str | None, channel: str = "cwc", status: str = "queued") -> int:
    """Insert one action with messages to `house` and its state's senators; return messages inserted."""
    key = hashlib.sha256(email.encode()).hexdigest()
    label = f"{house.state}-AL" if house.district == 0 else f"{house.state}-{house.district}"
    action = session.execute(_insert(session, Action.__table__).values(  # type: ignore[arg-type]
        receipt_token=uuid.uuid4().hex, campaign=campaign, created_at=utcnow(), created_day=day, ref=ref,
        lang="en", district_label=label, state=house.state, wants_receipt_email=False,
    ).returning(*Action.__table__.c)).mappings().one()  # type: ignore[attr-defined]
    counts.record_new_action(session, action)
    targets = [house] + [m for m in MEMBERS if m.chamber == "senate" and m.state == house.state]
    rows = [{"id": uuid.uuid4().hex, "action_id": action["id"], "campaign": campaign, "constituent_key": key,
             "bioguide": m.bioguide, "member_name": m.name, "member_title": m.title, "chamber": m.chamber,
             "state": m.state, "district": m.district, "ref": ref, "channel": channel, "status": status,
             "subject": "s", "edited": False, "attempts": 0, "created_at": utcnow(), "created_day": day,
             "updated_at": utcnow()} for m in targets]
    table: Table = Message.__table__  # type: ignore[assignment]
    inserted = session.execute(_insert(session, table).values(rows).on_conflict_do_nothing(
        index_elements=["campaign", "constituent_key", "bioguide"]).returning(*table.c)).mappings().all()
    counts.record_new_messages(session, inserted)
    session.commit()
    return len(inserted)
