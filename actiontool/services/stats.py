"""Every dashboard, export and `actiontool stats` query, answered from the roll-up counts.

Filters combine freely (date range × state × district × source × channel × status) and any one
dimension can be the grouping, so "Ohio × day for ref ohio-parents" is `by(..., "day", Filters(state="OH",
ref="ohio-parents"))`. Counts come from `message_counts`/`action_counts` (see services.counts), never from a
scan of the messages; the lists (delivery view, action export) read the base tables with indexes.
Roll-up rows are split into slots (services.counts.slot_for): every count here is a SUM over rows, so
the slots add up without any query naming them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    RowMapping,
    Select,
    Table,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from actiontool.campaigns import CHANNELS
from actiontool.districts import district_label as seat_label
from actiontool.districts import parse_label
from actiontool.models import FAILED, NEEDS_CONSTITUENT, STATUSES, Action, Message
from actiontool.services.counts import (
    ACTION_COUNTS,
    MEMBER_COUNTS,
    MESSAGE_COUNTS,
    SOURCE_COUNTS,
    campaign_totals,
    meanings,
)

# In the order the dashboard offers them: place first, then source, time and delivery.
DIMENSIONS: tuple[str, ...] = ("state", "district", "member", "source", "day", "channel", "status")
SORTS: tuple[str, ...] = ("key", "messages", "written", "sent", *STATUSES)
NO_REF = "(none)"  # how the absence of a ref code is written in filters and tables

_STATE = re.compile(r"^[A-Z]{2}$")
_DISTRICT = re.compile(r"^([A-Z]{2})-(AL|[1-9][0-9]?)$")
_REF = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class InvalidFilter(ValueError):
    """A filter value the dashboard cannot use; the message names the field."""


@dataclass(frozen=True, slots=True)
class Filters:
    """A combination of filters; None means "any"."""

    date_from: date | None = None
    date_to: date | None = None
    state: str | None = None
    district: str | None = None  # a House label: OH-3, AK-AL
    ref: str | None = None  # NO_REF selects actions that came without one
    channel: str | None = None
    status: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Parse GET parameters (empty values mean "any"); raise InvalidFilter on bad input."""
        def arg(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value or None

        def day(name: str) -> date | None:
            value = arg(name)
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise InvalidFilter(f"{name}: expected a date like 2026-01-31") from None

        state = arg("state")
        state = state.upper() if state else None
        if state and not _STATE.match(state):
            raise InvalidFilter("state: expected a two-letter code like OH")
        district = arg("district")
        district = district.upper() if district else None
        if district and not _DISTRICT.match(district):
            raise InvalidFilter("district: expected a label like OH-3 or AK-AL")
        ref = arg("ref")
        if ref and ref != NO_REF and not _REF.match(ref):
            raise InvalidFilter("ref: letters, digits, dot, dash or underscore")
        if ref and ref != NO_REF:
            ref = ref.lower()  # refs are stored in lower case (services.submit.clean_ref)
        channel = arg("channel")
        if channel and channel not in CHANNELS:
            raise InvalidFilter(f"channel: one of {', '.join(CHANNELS)}")
        status = arg("status")
        if status and status not in STATUSES:
            raise InvalidFilter(f"status: one of {', '.join(STATUSES)}")
        filters = cls(day("from"), day("to"), state, district, ref, channel, status)
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise InvalidFilter("from: the start date is after the end date")
        return filters

    def to_args(self) -> dict[str, str]:
        """Return the GET parameters that reproduce these filters (only those that are set)."""
        names = {"date_from": "from", "date_to": "to"}
        return {names.get(k, k): (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if v is not None}

    @property
    def active(self) -> bool:
        """Return True when any filter is set."""
        return any(v is not None for v in asdict(self).values())


def district_label(state: str, district: int | None) -> str | None:
    """Return OH-3 / AK-AL, or None for a senator's row."""
    return None if district is None else seat_label(state, district)


def _ref_value(ref: str) -> str:
    """Return the stored form of a ref filter ("" for no ref)."""
    return "" if ref == NO_REF else ref


# Which columns a grouping needs, besides those of the filters.
_DIM_COLUMNS: dict[str, set[str]] = {
    "day": {"day"}, "state": {"state"}, "district": {"district"}, "member": {"member"}, "source": {"ref"},
    "channel": {"channel"}, "status": set(),
}


def rollup_for(dim: str, filters: Filters) -> Table:
    """Return the smallest roll-up that has every column the grouping and the filters need.

    by member (day × member × channel) answers everything without a source; by source (day × state ×
    source × channel) everything with a source but without district or member; the finest roll-up the rest.
    """
    needed = set(_DIM_COLUMNS[dim])
    if filters.state:
        needed.add("state")
    if filters.district:
        needed.add("district")
    if filters.ref is not None:
        needed.add("ref")
    if "ref" not in needed:
        return MEMBER_COUNTS
    if not needed & {"district", "member"}:
        return SOURCE_COUNTS
    return MESSAGE_COUNTS


def _day_and_state_where(filters: Filters, day: Any, state: Any) -> list[ColumnElement[bool]]:
    """Return the date-range and state clauses every count query shares, on its own columns."""
    where: list[ColumnElement[bool]] = []
    if filters.date_from:
        where.append(day >= filters.date_from)
    if filters.date_to:
        where.append(day <= filters.date_to)
    if filters.state:
        where.append(state == filters.state)
    return where


def _message_where(campaign: str, filters: Filters, table: Table) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses of a message roll-up query."""
    t = table.c
    where = [t.campaign == campaign, *_day_and_state_where(filters, t.day, t.state)]
    if filters.district:
        state, number = parse_label(filters.district)
        where += [t.state == state, t.district == number]
    if filters.ref is not None:
        where.append(t.ref == _ref_value(filters.ref))
    if filters.channel:
        where.append(t.channel == filters.channel)
    return where


def _status_sums(filters: Filters, table: Table) -> list[Any]:
    """Return SUM(column) per status; a status filter zeroes the other statuses."""
    return [func.coalesce(func.sum(table.c[s]), 0).label(s)
            if filters.status in (None, s) else literal(0).label(s) for s in STATUSES]


def totals(session: Session, campaign: str, filters: Filters = Filters()) -> dict[str, Any]:
    """Return actions, messages (all, per status, written, sent) and distinct constituents for the filters.

    Constituents are exact for the whole campaign only (a distinct count does not add up across
    roll-up rows), so with filters set `constituents` is None. Actions ignore channel and status.
    """
    if not filters.active:
        row = campaign_totals(session, campaign)
        return {**row, "messages": sum(row[s] for s in STATUSES), **meanings(row)}
    return _filtered_totals(session, campaign, filters)


def source_totals(session: Session, campaign: str, ref: str) -> dict[str, Any]:
    """Return one source's totals as `totals` does, reading no action roll-up for a source with no messages.

    Every action has at least one message with its ref, so a ref without messages has no actions; the
    public count answers any ?ref= a stranger sends, and such a ref then costs one index lookup.
    """
    return _filtered_totals(session, campaign, Filters(ref=ref), actions_need_messages=True)


def _filtered_totals(session: Session, campaign: str, filters: Filters, *,
                     actions_need_messages: bool = False) -> dict[str, Any]:
    """Return `totals` under active filters, from the smallest roll-up that has their columns."""
    table = rollup_for("status", filters)
    where = _message_where(campaign, filters, table)
    sums = session.execute(select(*_status_sums(filters, table)).where(*where)).one()
    result: dict[str, Any] = {s: int(v) for s, v in zip(STATUSES, sums, strict=True)}
    result["messages"] = sum(result[s] for s in STATUSES)
    result.update(meanings(result))
    if actions_need_messages and not result["messages"]:
        result["actions"] = 0
    else:
        result["actions"] = int(session.execute(
            select(func.coalesce(func.sum(ACTION_COUNTS.c.n), 0)).where(*_action_where(campaign, filters))
        ).scalar_one())
    result["constituents"] = None
    result["updated_at"] = campaign_totals(session, campaign)["updated_at"]
    return result


def _action_where(campaign: str, filters: Filters) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses of an action roll-up query (channel and status do not apply)."""
    t = ACTION_COUNTS.c
    where = [t.campaign == campaign, *_day_and_state_where(filters, t.day, t.state)]
    if filters.district:
        where.append(t.district_label == filters.district)
    if filters.ref is not None:
        where.append(t.ref == _ref_value(filters.ref))
    return where


def _group_columns(dim: str, table: Table) -> list[Any]:
    """Return the roll-up columns a dimension groups by."""
    names = {"day": ["day"], "state": ["state"], "district": ["state", "district"], "member": ["bioguide"],
             "source": ["ref"], "channel": ["channel"]}[dim]
    return [table.c[name] for name in names]


def by(session: Session, campaign: str, dim: str, filters: Filters = Filters(), *, sort: str = "key",
       descending: bool = False) -> list[dict[str, Any]]:
    """Return message counts grouped by `dim` under `filters`, one dict per group, sorted."""
    if dim not in DIMENSIONS:
        raise InvalidFilter(f"by: one of {', '.join(DIMENSIONS)}")
    if sort not in SORTS:
        raise InvalidFilter(f"sort: one of {', '.join(SORTS)}")
    if dim == "status":
        rows = _by_status(session, campaign, filters)
    else:
        rows = _grouped(session, campaign, dim, filters)
    return sort_rows(rows, sort, descending)


def sort_rows(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """Sort grouped rows by their key or by a count (ties broken by key)."""
    rows.sort(key=lambda r: r["sort_key"])
    if sort != "key":
        rows.sort(key=lambda r: r[sort], reverse=descending)
    elif descending:
        rows.reverse()
    return rows


def _grouped(session: Session, campaign: str, dim: str, filters: Filters) -> list[dict[str, Any]]:
    """Run one GROUP BY over message_counts."""
    table = rollup_for(dim, filters)
    t = table.c
    groups = _group_columns(dim, table)
    extra: list[Any] = []
    if dim == "member":
        extra = [func.max(t.member_name).label("member_name"), func.max(t.chamber).label("chamber"),
                 func.max(t.state).label("m_state"), func.max(t.district).label("m_district")]
    elif dim == "district":
        # How many members a seat's letters went to: more than one after a new Congress or a special
        # election, and then each is named (_name_seat_members) rather than one name standing for all.
        extra = [func.max(t.member_name).label("member_name"), func.max(t.bioguide).label("bioguide"),
                 func.min(t.bioguide).label("first_bioguide")]
    sums = _status_sums(filters, table)
    stmt: Select[Any] = select(*groups, *extra, *sums).where(*_message_where(campaign, filters, table))
    if dim == "district":
        stmt = stmt.where(t.district.is_not(None))
    stmt = stmt.group_by(*groups)
    rows = []
    shared: set[str] = set()  # seats whose letters went to more than one member
    for row in session.execute(stmt).mappings():
        counts = {s: int(row[s]) for s in STATUSES}
        total = sum(counts.values())
        if total == 0:
            continue  # a status filter leaves groups with nothing in that status
        rows.append({**_describe(dim, row), **counts, "messages": total, **meanings(counts)})
        if dim == "district" and row["first_bioguide"] != row["bioguide"]:
            shared.add(rows[-1]["key"])
    if shared:
        _name_seat_members(session, campaign, filters, table, rows, shared)
    return rows


def _name_seat_members(session: Session, campaign: str, filters: Filters, table: Table,
                       rows: list[dict[str, Any]], shared: set[str]) -> None:
    """Name every member in the rows of seats whose letters went to several members, the most written-to
    first, by the names stored with the letters (a member who left keeps theirs).

    A second, small query for those seats only: grouping every seat by member as well would cost the common
    case (one member per seat) its index-ordered GROUP BY."""
    t = table.c
    states = sorted({key.split("-")[0] for key in shared})
    stmt = (select(t.state, t.district, t.bioguide, func.max(t.member_name).label("member_name"),
                   *_status_sums(filters, table))
            .where(*_message_where(campaign, filters, table), t.state.in_(states), t.district.is_not(None))
            .group_by(t.state, t.district, t.bioguide))
    names: dict[str, list[tuple[int, str]]] = {}
    for found in session.execute(stmt).mappings():
        label = seat_label(found["state"], found["district"])
        total = sum(int(found[s]) for s in STATUSES)
        if label in shared and total:
            names.setdefault(label, []).append((-total, found["member_name"]))
    for row in rows:
        if row["key"] in names:
            row["member_name"] = ", ".join(name for _, name in sorted(names[row["key"]]))


def by_state_and_district(session: Session, campaign: str, filters: Filters = Filters()
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return `by(..., "state")` and `by(..., "district")` (both sorted by key) from one GROUP BY.

    The dashboard shows both (the table by state and the map); one scan of the roll-up instead of two.
    """
    table = rollup_for("district", filters)
    t = table.c
    stmt = (select(t.state, t.district, func.max(t.member_name).label("member_name"),
                   func.max(t.bioguide).label("bioguide"), func.min(t.bioguide).label("first_bioguide"),
                   *_status_sums(filters, table))
            .where(*_message_where(campaign, filters, table)).group_by(t.state, t.district))
    states: dict[str, dict[str, int]] = {}
    districts = []
    shared: set[str] = set()  # seats whose letters went to more than one member (see _grouped)
    for row in session.execute(stmt).mappings():
        counts = {s: int(row[s]) for s in STATUSES}
        total = sum(counts.values())
        if total == 0:
            continue
        per_state = states.setdefault(row["state"], dict.fromkeys(STATUSES, 0))
        for status, n in counts.items():
            per_state[status] += n
        if row["district"] is not None:
            districts.append({**_describe("district", row), **counts, "messages": total, **meanings(counts)})
            if row["first_bioguide"] != row["bioguide"]:
                shared.add(districts[-1]["key"])
    if shared:
        _name_seat_members(session, campaign, filters, table, districts, shared)
    state_rows = [{"key": state, "label": state, "sort_key": state, **counts,
                   "messages": sum(counts.values()), **meanings(counts)} for state, counts in states.items()]
    return sort_rows(state_rows, "key", False), sort_rows(districts, "key", False)


def _describe(dim: str, row: RowMapping) -> dict[str, Any]:
    """Return key, label, sort key and extra columns of a grouped row."""
    if dim == "day":
        return {"key": row["day"].isoformat(), "label": row["day"].isoformat(), "sort_key": row["day"]}
    if dim == "state":
        return {"key": row["state"], "label": row["state"], "sort_key": row["state"]}
    if dim == "district":
        label = district_label(row["state"], row["district"])
        return {"key": label, "label": label, "sort_key": (row["state"], row["district"]),
                "member_name": row["member_name"], "bioguide": row["bioguide"]}
    if dim == "member":
        seat = district_label(row["m_state"], row["m_district"]) or row["m_state"]
        return {"key": row["bioguide"], "label": row["member_name"],
                "sort_key": (row["member_name"], row["bioguide"]), "chamber": row["chamber"], "seat": seat}
    if dim == "source":
        ref = row["ref"] or NO_REF
        return {"key": ref, "label": ref, "sort_key": (row["ref"] == "", ref)}
    return {"key": row["channel"], "label": row["channel"], "sort_key": row["channel"]}


def _by_status(session: Session, campaign: str, filters: Filters) -> list[dict[str, Any]]:
    """Return one row per status (the status columns turned into rows)."""
    result = totals(session, campaign, filters)
    rows = []
    for index, status in enumerate(STATUSES):
        n = int(result[status])
        if n:
            counts = {s: (n if s == status else 0) for s in STATUSES}
            rows.append({"key": status, "label": status, "sort_key": index, **counts, "messages": n,
                         **meanings(counts)})
    return rows


def flagged_repeats(session: Session, campaign: str) -> int:
    """Return how many of the campaign's actions are flagged repeats (an e-mail that wrote before as another).

    Exact: a count over `ix_actions_flagged_repeat`, for the whole campaign. These actions are also in
    the action and message counts; organizers see them apart because the e-mail address is unverified.
    """
    return int(session.execute(
        select(func.count()).select_from(Action).where(Action.campaign == campaign, Action.flagged_repeat)
    ).scalar_one())


def states_with_messages(session: Session, campaign: str) -> list[str]:
    """Return the states that have messages in the campaign, for the filter choices."""
    t = MEMBER_COUNTS.c
    return list(session.execute(select(t.state).where(t.campaign == campaign).distinct().order_by(t.state))
                .scalars())


def refs_with_messages(session: Session, campaign: str, limit: int = 500) -> list[str]:
    """Return the ref codes seen in the campaign (NO_REF for none), for the filter choices."""
    t = SOURCE_COUNTS.c
    refs = session.execute(select(t.ref).where(t.campaign == campaign).distinct().order_by(t.ref)
                           .limit(limit)).scalars()
    return [r or NO_REF for r in refs]


def places_with_messages(session: Session, campaign: str) -> tuple[list[str], list[str]]:
    """Return `states_with_messages` and `districts_with_messages` from one statement (the filter choices)."""
    t = MEMBER_COUNTS.c
    rows = session.execute(select(t.state, t.district).where(t.campaign == campaign).distinct()).all()
    states = sorted({state for state, _number in rows})
    return states, [seat_label(state, number) for state, number in sorted(
        (state, number) for state, number in rows if number is not None)]


def districts_with_messages(session: Session, campaign: str) -> list[str]:
    """Return the House districts that have messages in the campaign (OH-3, AK-AL), for the filter choices."""
    t = MEMBER_COUNTS.c
    rows = session.execute(select(t.state, t.district).where(t.campaign == campaign, t.district.is_not(None))
                           .distinct()).all()
    return [seat_label(state, number) for state, number in sorted(rows)]


# Actions (people) per group: from action_counts, which knows day, state, district and source. A member's
# messages are its actions (an action writes at most once to each member); channel and status do not
# apply to actions.
_ACTION_GROUPS: dict[str, str] = {"day": "day", "state": "state", "district": "district_label",
                                  "source": "ref"}


def actions_by(session: Session, campaign: str, dim: str,
               filters: Filters = Filters()) -> dict[str, int] | None:
    """Return actions per group key of `by(..., dim)`, or None where actions are not split that way."""
    if dim == "member":
        return None  # the caller uses the messages: one per action
    column = _ACTION_GROUPS.get(dim)
    if column is None:
        return None
    t = ACTION_COUNTS.c
    rows = session.execute(select(t[column], func.sum(t.n)).where(*_action_where(campaign, filters))
                           .group_by(t[column]))
    result: dict[str, int] = {}
    for key, n in rows:
        if dim == "day":
            key = key.isoformat()
        elif dim == "source":
            key = key or NO_REF
        result[key] = result.get(key, 0) + int(n)
    return result


def source_trend(session: Session, campaign: str, last: date | None, filters: Filters = Filters(),
                 days: int = 7) -> dict[str, tuple[int, int]]:
    """Return per source (ref) its actions in the `days` days up to `last` and in the `days` before those."""
    if last is None:
        return {}
    from datetime import timedelta

    t = ACTION_COUNTS.c
    split = last - timedelta(days=days - 1)
    start = split - timedelta(days=days)
    where = _action_where(campaign, Filters(state=filters.state, district=filters.district, ref=filters.ref))
    rows = session.execute(select(t.ref, t.day, func.sum(t.n))
                           .where(*where, t.day >= start, t.day <= last).group_by(t.ref, t.day))
    result: dict[str, tuple[int, int]] = {}
    for ref, day, n in rows:
        key = ref or NO_REF
        recent, before = result.get(key, (0, 0))
        result[key] = (recent + int(n), before) if day >= split else (recent, before + int(n))
    return result


def date_bounds(session: Session, campaign: str) -> tuple[date | None, date | None]:
    """Return the first and last day with messages."""
    t = MEMBER_COUNTS.c
    stmt = select(func.min(t.day), func.max(t.day)).where(t.campaign == campaign)
    first, last = session.execute(stmt).one()
    return first, last


def campaigns_with_counts(session: Session) -> list[str]:
    """Return every campaign slug that has counted messages or actions."""
    from actiontool.services.counts import CAMPAIGN_COUNTS

    return list(session.execute(select(CAMPAIGN_COUNTS.c.campaign).distinct()
                                .order_by(CAMPAIGN_COUNTS.c.campaign)).scalars())


# Lists from the base tables ---------------------------------------------------------------------------

def messages_in_status(session: Session, campaign: str, status: str, *, limit: int = 100,
                       offset: int = 0) -> list[Message]:
    """Return a page of the campaign's messages in `status`, most recently changed first."""
    if status not in (FAILED, NEEDS_CONSTITUENT) and status not in STATUSES:
        raise InvalidFilter(f"status: one of {', '.join(STATUSES)}")
    stmt = (select(Message).where(Message.campaign == campaign, Message.status == status)
            .order_by(Message.updated_at.desc(), Message.id).limit(limit).offset(offset))
    return list(session.execute(stmt).scalars())


# created_at is the UTC instant; created_day the local day in the campaign's time zone (the filters' day).
# The action list's columns (README.md, "CSV", documents each). flagged_repeat is 1 for an action from an
# e-mail address that had written to the same members under another name or street address, else 0.
ACTION_COLUMNS: tuple[str, ...] = ("id", "created_at", "created_day", "campaign", "ref", "state",
                                   "district_label", "lang", "flagged_repeat")
PERSONAL_COLUMNS: tuple[str, ...] = ("prefix", "first_name", "last_name", "email", "address1", "city", "zip",
                                     "phone", "personal_message")


def action_rows(session: Session | Connection, campaign: str, filters: Filters = Filters(), *,
                personal: bool = False) -> Iterator[tuple[Any, ...]]:
    """Yield the campaign's actions as tuples (ACTION_COLUMNS, plus PERSONAL_COLUMNS when asked), streamed."""
    names = ACTION_COLUMNS + (PERSONAL_COLUMNS if personal else ())
    where = [Action.campaign == campaign, *_day_and_state_where(filters, Action.created_day, Action.state)]
    if filters.district:
        where.append(Action.district_label == filters.district)
    if filters.ref is not None:
        where.append(Action.ref.is_(None) if filters.ref == NO_REF else Action.ref == filters.ref)
    # flagged_repeat as 1 or 0, a plain machine number (a boolean would be written True/False).
    columns = [cast(Action.flagged_repeat, Integer).label("flagged_repeat") if n == "flagged_repeat"
               else getattr(Action, n) for n in names]
    stmt = select(*columns).where(*where).order_by(Action.id).execution_options(yield_per=2000)
    for row in session.execute(stmt):
        yield tuple(row)
