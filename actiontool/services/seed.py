"""Synthetic sends for benchmarks and demos: `actiontool dev seed SLUG --messages N`.

Realistic shape, not real people: actions spread over states in proportion to their House seats, over
days with a launch spike and a decay, over partner refs with a long tail; one message to the House member
and one to each senator; statuses that depend on age and channel. Rows go in with bulk executemany, then
the roll-ups are recomputed from them in one set-based pass (counts.rebuild), so they agree exactly.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from actiontool.districts import district_label
from actiontool.models import Action, Message
from actiontool.services import counts
from actiontool.services.transaction import transaction

ACTIONS: Table = Action.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]

REFS: tuple[str, ...] = ("ohio-parents", "nurses-union", "faith-coalition", "recovery-network", "newsletter",
                         "facebook", "twitter", "sheriffs-assoc", "pta-national", "veterans", "students",
                         "local-news")
BATCH = 5000


class SeedError(ValueError):
    """The seed request cannot be carried out (bad count, no members)."""


@dataclass(frozen=True, slots=True)
class SeedMember:
    """The few member fields a synthetic message needs."""

    bioguide: str
    name: str
    title: str
    chamber: str
    state: str
    district: int | None


def members_from_dataset(dataset: Any) -> list[SeedMember]:
    """Return seed members from a districts Dataset (its sitting members)."""
    return [SeedMember(m.bioguide, m.name, m.title, m.chamber, m.state, m.district)
            for m in dataset.members()]


def _weighted_days(first: date, days: int) -> tuple[list[date], list[float]]:
    """Return the campaign's days and their weights: a launch spike, a decay, and a mid-campaign push."""
    weights = [1.0 / (1 + i * 0.15) + (1.5 if i == days // 2 else 0.0) for i in range(days)]
    return [first + timedelta(days=i) for i in range(days)], weights


def _action_plan(rng: random.Random, members: Sequence[SeedMember], first: date,
                 days: int) -> Iterator[tuple[SeedMember, list[SeedMember], date, str | None]]:
    """Yield (house member, senators, day, ref) per synthetic action, without end."""
    house = [m for m in members if m.chamber == "house"]
    senators: dict[str, list[SeedMember]] = {}
    for m in members:
        if m.chamber == "senate":
            senators.setdefault(m.state, []).append(m)
    day_list, day_weights = _weighted_days(first, days)
    ref_choices: list[str | None] = [None, *REFS]
    ref_weights = [6.0] + [1.0 / (i + 1) ** 1.1 * 4 for i in range(len(REFS))]
    chunk = 10_000  # draw in chunks: rng.choices is much faster than one call per action
    while True:
        picks = zip(rng.choices(house, k=chunk), rng.choices(day_list, weights=day_weights, k=chunk),
                    rng.choices(ref_choices, weights=ref_weights, k=chunk), strict=True)
        for rep, day, ref in picks:
            yield rep, senators.get(rep.state, []), day, ref


def _channel(member: SeedMember) -> str:
    """Return a plausible channel: CWC for the House, e-mail or hand-off for senators."""
    if member.chamber == "house":
        return "cwc"
    return "handoff" if int(hashlib.md5(member.bioguide.encode()).hexdigest(), 16) % 3 == 0 else "smtp"


def _status(rng: random.Random, channel: str, age_days: int) -> str:
    """Return a plausible status for a message of this channel and age."""
    r = rng.random()
    if channel == "handoff":
        return "handed_off" if r < 0.7 else "needs_constituent"
    if age_days == 0 and r < 0.3:
        return "queued" if r < 0.25 else "sending"
    return "failed" if r < 0.03 else "delivered"


def seed(session: Session, campaign: str, n_messages: int, members: Sequence[SeedMember], *, days: int = 45,
         last_day: date | None = None, rng_seed: int = 1,
         progress: Callable[[int], None] | None = None) -> int:
    """Insert about `n_messages` synthetic messages (and their actions), rebuild the roll-ups; commit.

    Returns the number of messages inserted (whole actions, so it can exceed the request by two).
    """
    if n_messages < 1:
        raise SeedError("--messages must be at least 1")
    if not any(m.chamber == "house" for m in members):
        raise SeedError("no House members to address: is the district data installed?")
    rng = random.Random(rng_seed)
    last_day = last_day or datetime.now(UTC).date()
    first = last_day - timedelta(days=days - 1)
    with transaction(session):
        next_id = (session.execute(select(func.max(Action.id))).scalar_one() or 0) + 1
        tag = f"seed-{campaign}-{rng_seed}-{next_id}"
        actions: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        inserted = 0
        for i, (rep, sens, day, ref) in enumerate(_action_plan(rng, members, first, days)):
            if inserted + len(messages) >= n_messages:
                break
            action_id = next_id + i
            at = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), UTC)
            key = hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()
            label = district_label(rep.state, rep.district or 0)
            actions.append({"id": action_id, "receipt_token": key[:40], "campaign": campaign,
                            "created_at": at, "created_day": day, "ref": ref,
                            "lang": "es" if rng.random() < 0.08 else "en", "district_label": label,
                            "state": rep.state, "wants_receipt_email": False, "receipt_email_attempts": 0})
            for member in (rep, *sens):
                channel = _channel(member)
                messages.append({
                    "id": hashlib.md5(f"{key}{member.bioguide}".encode()).hexdigest(), "action_id": action_id,
                    "campaign": campaign, "constituent_key": key, "bioguide": member.bioguide,
                    "member_name": member.name, "member_title": member.title, "chamber": member.chamber,
                    "state": member.state, "district": member.district, "ref": ref, "channel": channel,
                    "status": _status(rng, channel, (last_day - day).days), "subject": "Pass the proposal",
                    "edited": False, "attempts": 1, "created_at": at, "created_day": day, "updated_at": at,
                })
            if len(messages) >= BATCH:
                inserted += _flush(session, actions, messages)
                if progress:
                    progress(inserted)
        inserted += _flush(session, actions, messages)
        if progress:
            progress(inserted)
        advance_action_ids(session)
    counts.rebuild(session, campaign)  # and the packet roll-ups (packet_counts adopts counts.rebuild)
    # Fresh planner statistics after a bulk load, as autovacuum (or SQLite's optimize) would gather later.
    with transaction(session):
        session.execute(text("ANALYZE"))
    return inserted


def advance_action_ids(session: Session) -> None:
    """Move PostgreSQL's action id sequence past the ids the seed wrote itself (SQLite needs nothing).

    The seed writes ids (one executemany, no RETURNING); without this the next real submission drew an id
    the seed had taken and failed with 500 (UniqueViolation pk_actions).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # is_called false: the next nextval() returns exactly MAX(id) + 1.
    session.execute(text("SELECT setval(pg_get_serial_sequence('actions', 'id'), "
                         "(SELECT COALESCE(MAX(id), 0) + 1 FROM actions), false)"))


def _flush(session: Session, actions: list[dict[str, Any]], messages: list[dict[str, Any]]) -> int:
    """Insert the buffered rows with executemany and empty the buffers; return the messages written."""
    n = len(messages)
    if actions:
        session.execute(ACTIONS.insert(), actions)
    if messages:
        session.execute(MESSAGES.insert(), messages)
    actions.clear()
    messages.clear()
    return n
