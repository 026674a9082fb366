"""SQLAlchemy 2.0 typed models: the outbox (Action, Message) and the organizers' records.

An Action is one constituent's submission; it owns one Message per member it was addressed to. Messages
are the outbox: the delivery worker claims them, and every status change goes through
`actiontool.services.outbox.set_status` so that counts stay exact.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    DDL,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from actiontool.campaigns import PACKET as PACKET  # re-exported: the channel whose letters wait in the outbox

# Message statuses. `delivered` means a channel accepted the message; `handed_off` means the constituent
# said they sent it themselves. Counts everywhere keep the two apart.
QUEUED = "queued"
SENDING = "sending"
DELIVERED = "delivered"
NEEDS_CONSTITUENT = "needs_constituent"
HANDED_OFF = "handed_off"
FAILED = "failed"
STATUSES: tuple[str, ...] = (QUEUED, SENDING, DELIVERED, NEEDS_CONSTITUENT, HANDED_OFF, FAILED)
FINAL_STATUSES: frozenset[str] = frozenset({DELIVERED, HANDED_OFF, FAILED})

# `packet` messages stay `queued` (the worker never claims them) until a packet holding them is marked
# delivered (services.packets).
# The last_error of a message that ended `failed` because its member is no longer in office: stable, so
# receipts, the delivery page and counts can tell it from delivery failures.
LEFT_OFFICE = "member left office"
# How an organizer delivered a packet.
DELIVERED_HOW: tuple[str, ...] = ("emailed", "hand_delivered", "mailed")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def new_message_id() -> str:
    """Return a message id: 32 lowercase hex digits, usable as the CWC DeliveryId as it is."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back timezone-aware, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Action(Base):
    """One constituent's submission for a campaign: who they are and what they chose."""

    __tablename__ = "actions"
    # The worker looks for receipt e-mails still to send on every poll.
    __table_args__ = (
        Index("ix_actions_receipt_due", "wants_receipt_email", "receipt_email_sent_at"),
        # The organizer dashboard counts a campaign's flagged repeats.
        Index("ix_actions_flagged_repeat", "campaign", "flagged_repeat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable receipt URL part
    campaign: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_day: Mapped[date] = mapped_column(Date)  # local day in the campaign's time zone, for counts
    ref: Mapped[str | None] = mapped_column(String(64))  # partner source code from ?ref=
    lang: Mapped[str] = mapped_column(String(8), default="en")
    # The chosen House district's label (e.g. WI-3, AK-AL); None when the campaign targets the Senate only.
    district_label: Mapped[str | None] = mapped_column(String(8))
    # How the district was decided (compose.BASES): zip (the ZIP has one), address (the geocoder placed the
    # street address), location (the browser's) or choice. Never the coordinates. None before 0011.
    district_basis: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(2))
    # Personal data: cleared by `actiontool purge` once every message is final; counts do not need it.
    prefix: Mapped[str | None] = mapped_column(String(16))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    address1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    zip: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(40))
    personal_message: Mapped[str | None] = mapped_column(Text)  # the constituent's own words
    wants_receipt_email: Mapped[bool] = mapped_column(Boolean, default=False)
    receipt_email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The opt-in receipt e-mail (actiontool.delivery.receipt): the site's origin at submit time, for the
    # absolute link when BASE_URL is not set; attempts and a lease/backoff time so workers send it once.
    receipt_base_url: Mapped[str | None] = mapped_column(String(255))
    receipt_email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    receipt_email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An e-mail address that already wrote to these members came back with another name or street
    # address: written (not dropped, so nobody can suppress another by using their address first) and
    # shown to organizers apart. See services/submit.py.
    flagged_repeat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # sha256 of the e-mail's key with the normalised name and street address, kept after purge (like
    # `Message.constituent_key`) so a later repeat can still be told apart; None on rows made before 0004.
    identity_key: Mapped[str | None] = mapped_column(String(64))

    messages: Mapped[list[Message]] = relationship(
        back_populates="action", order_by="Message.created_at", cascade="all, delete-orphan"
    )


class Message(Base):
    """One letter to one member: the outbox row the worker delivers."""

    __tablename__ = "messages"
    __table_args__ = (
        # At most one message per campaign, constituent and member: a repeat submission cannot insert.
        UniqueConstraint("campaign", "constituent_key", "bioguide", name="uq_messages_once"),
        # The worker's claim: due messages of the channels it delivers (packet letters wait in `queued`
        # for the organization, possibly a million of them, and must not be scanned on every poll).
        Index("ix_messages_due", "status", "channel", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_message_id)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    campaign: Mapped[str] = mapped_column(String(64))
    # sha256 of the normalised e-mail: the de-duplication key, kept after personal data is purged.
    constituent_key: Mapped[str] = mapped_column(String(64))
    bioguide: Mapped[str] = mapped_column(String(10))
    member_name: Mapped[str] = mapped_column(String(200))
    member_title: Mapped[str] = mapped_column(String(32))
    chamber: Mapped[str] = mapped_column(String(6))  # house | senate
    state: Mapped[str] = mapped_column(String(2))
    district: Mapped[int | None] = mapped_column(Integer)  # None for senators
    ref: Mapped[str | None] = mapped_column(String(64))  # copied from the action, for counts
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    suggested_text: Mapped[str | None] = mapped_column(Text)  # the organisation's letter, as sent
    constituent_text: Mapped[str | None] = mapped_column(Text)  # only the constituent's own words
    edited: Mapped[bool] = mapped_column(Boolean, default=False)  # did they change the suggested text?
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The fencing token: +1 at every claim, never reset. A worker records a failure or renews its lease
    # only while the message carries the token of its own claim (actiontool.delivery.worker).
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_day: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The office packet holding this letter (packet channel only); set once, never moved to another.
    packet_id: Mapped[int | None] = mapped_column(ForeignKey("packets.id"), index=True)

    action: Mapped[Action] = relationship(back_populates="messages")

    @property
    def district_label(self) -> str | None:
        """Return `WI-3` / `AK-AL` for House messages, None for senators."""
        if self.district is None:
            return None
        return f"{self.state}-AL" if self.district == 0 else f"{self.state}-{self.district}"


class Organizer(Base):
    """A campaign organizer who can sign in to the dashboard. No default account exists."""

    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every signed-in session carries the version it began under; sign-out and disabling raise it, so
    # every copy of an older session cookie stops working at its next request.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AuditEvent(Base):
    """An append-only record of what organizers and operators did."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # organizer e-mail, or "cli"
    # sign_in, sign_in_failed, export, retry, campaign_change, ...
    kind: Mapped[str] = mapped_column(String(40))
    campaign: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))


# Roll-up counts, kept exact by actiontool.services.counts: incremented when messages and actions are
# inserted, moved between status columns by outbox.set_status. The dashboard reads these instead of
# scanning a million messages. `actiontool stats --rebuild` recomputes them from the base rows.
# Every roll-up row carries a slot (last in its primary key): a writer adds only to the slot of its action
# (services.counts.slot_for), readers sum the slots, so concurrent submits on PostgreSQL do not queue on
# one hot row. SQLite uses slot 0 only.
def slot_column() -> Mapped[int]:
    """Return the `slot` primary-key column every roll-up table ends its key with."""
    return mapped_column(Integer, primary_key=True, default=0, server_default="0")


class MessageCount(Base):
    """Messages per campaign × day × member × source × channel, one column per status."""

    __tablename__ = "message_counts"
    __table_args__ = (
        Index("ix_message_counts_state", "campaign", "state", "district"),
        Index("ix_message_counts_bioguide", "campaign", "bioguide"),
        Index("ix_message_counts_ref", "campaign", "ref", "state", "district"),  # source × state views
    )

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(10), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when the action had no ref
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = slot_column()
    # Functions of bioguide, stored so that no query needs the messages table.
    state: Mapped[str] = mapped_column(String(2))
    district: Mapped[int | None] = mapped_column(Integer)
    chamber: Mapped[str] = mapped_column(String(6))
    member_name: Mapped[str] = mapped_column(String(200))
    queued: Mapped[int] = mapped_column(Integer, default=0)
    sending: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    needs_constituent: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class MemberDayCount(Base):
    """Messages per campaign × day × member × channel (no source): the coarser roll-up most views read."""

    __tablename__ = "message_counts_by_member"
    __table_args__ = (Index("ix_message_counts_by_member_state", "campaign", "state", "district"),)

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = slot_column()
    state: Mapped[str] = mapped_column(String(2))
    district: Mapped[int | None] = mapped_column(Integer)
    chamber: Mapped[str] = mapped_column(String(6))
    member_name: Mapped[str] = mapped_column(String(200))
    queued: Mapped[int] = mapped_column(Integer, default=0)
    sending: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    needs_constituent: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class SourceDayCount(Base):
    """Messages per campaign × day × state × source × channel: the roll-up of views by or filtered on ref."""

    __tablename__ = "message_counts_by_source"
    __table_args__ = (Index("ix_message_counts_by_source_ref", "campaign", "ref"),)

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when the action had no ref
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = slot_column()
    queued: Mapped[int] = mapped_column(Integer, default=0)
    sending: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    needs_constituent: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class ActionCount(Base):
    """Actions per campaign × day × state × district × source."""

    __tablename__ = "action_counts"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    district_label: Mapped[str] = mapped_column(String(8), primary_key=True)  # "" when none was chosen
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    slot: Mapped[int] = slot_column()
    n: Mapped[int] = mapped_column(Integer, default=0)


class ActionHourCount(Base):
    """Actions per campaign × local day × local hour (the campaign's time zone): the hour-of-day view.

    `slot` is the action's roll-up slot (services.counts.slot_for), so concurrent submits of one hour do not
    queue behind one row; readers sum the slots.
    """

    __tablename__ = "action_hour_counts"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0-23, local
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0)
    n: Mapped[int] = mapped_column(Integer, default=0)


class CampaignCount(Base):
    """Per campaign and slot: totals for the public counter, summed over one primary-key range."""

    __tablename__ = "campaign_counts"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = slot_column()
    actions: Mapped[int] = mapped_column(Integer, default=0)
    constituents: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    sending: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    needs_constituent: Mapped[int] = mapped_column(Integer, default=0)
    handed_off: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignConstituent(Base):
    """Each constituent (by de-duplication key) who has a message in a campaign: exact distinct counts."""

    __tablename__ = "campaign_constituents"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    constituent_key: Mapped[str] = mapped_column(String(64), primary_key=True)


# A submit's roll-up writes as one call on PostgreSQL (services.counts.record_submit): the action's,
# its messages' (the three message roll-ups, rows in the order given, which the caller sorts by key), its
# constituents', its local hour's and the campaign's totals, in LOCK_ORDER, each statement after the one
# before it. Issue 17: at 32 concurrent writers the seven separate upserts cost more in per-statement
# overhead (a round trip each, and without prepared statements a parse and plan each) than in the rows
# they change; PL/pgSQL keeps each statement's plan for the session, so one call does the same work. The
# argument is a JSON object of rows keyed by table name, each row's keys named as the table's columns;
# the campaign row's `constituents` is the number of constituent rows actually inserted, which the
# function returns. Migration 0014 creates it (a copy of this text, frozen there); `create_all` creates
# it through the DDL hook below. SQLite has no stored functions: it sends the upserts one by one.
COUNT_SUBMIT_FUNCTION = """\
CREATE FUNCTION count_submit(p jsonb) RETURNS integer
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    new_constituents integer;
BEGIN
    INSERT INTO action_counts AS t (campaign, day, state, district_label, ref, slot, n)
    SELECT r.campaign, r.day, r.state, r.district_label, r.ref, r.slot, r.n
    FROM jsonb_populate_record(NULL::action_counts, p -> 'action_counts') AS r
    ON CONFLICT (campaign, day, state, district_label, ref, slot) DO UPDATE SET n = t.n + excluded.n;

    INSERT INTO message_counts AS t (campaign, day, bioguide, ref, channel, slot, state, district, chamber,
                                     member_name, queued, sending, delivered, needs_constituent, handed_off,
                                     failed)
    SELECT r.campaign, r.day, r.bioguide, r.ref, r.channel, r.slot, r.state, r.district, r.chamber,
           r.member_name, r.queued, r.sending, r.delivered, r.needs_constituent, r.handed_off, r.failed
    FROM jsonb_populate_recordset(NULL::message_counts, p -> 'message_counts') WITH ORDINALITY AS r
    ORDER BY r.ordinality
    ON CONFLICT (campaign, day, bioguide, ref, channel, slot) DO UPDATE SET
        queued = t.queued + excluded.queued, sending = t.sending + excluded.sending,
        delivered = t.delivered + excluded.delivered,
        needs_constituent = t.needs_constituent + excluded.needs_constituent,
        handed_off = t.handed_off + excluded.handed_off, failed = t.failed + excluded.failed;

    INSERT INTO message_counts_by_member AS t (campaign, day, bioguide, channel, slot, state, district,
                                               chamber, member_name, queued, sending, delivered,
                                               needs_constituent, handed_off, failed)
    SELECT r.campaign, r.day, r.bioguide, r.channel, r.slot, r.state, r.district, r.chamber, r.member_name,
           r.queued, r.sending, r.delivered, r.needs_constituent, r.handed_off, r.failed
    FROM jsonb_populate_recordset(NULL::message_counts_by_member, p -> 'message_counts_by_member')
         WITH ORDINALITY AS r
    ORDER BY r.ordinality
    ON CONFLICT (campaign, day, bioguide, channel, slot) DO UPDATE SET
        queued = t.queued + excluded.queued, sending = t.sending + excluded.sending,
        delivered = t.delivered + excluded.delivered,
        needs_constituent = t.needs_constituent + excluded.needs_constituent,
        handed_off = t.handed_off + excluded.handed_off, failed = t.failed + excluded.failed;

    INSERT INTO message_counts_by_source AS t (campaign, day, state, ref, channel, slot, queued, sending,
                                               delivered, needs_constituent, handed_off, failed)
    SELECT r.campaign, r.day, r.state, r.ref, r.channel, r.slot, r.queued, r.sending, r.delivered,
           r.needs_constituent, r.handed_off, r.failed
    FROM jsonb_populate_recordset(NULL::message_counts_by_source, p -> 'message_counts_by_source')
         WITH ORDINALITY AS r
    ORDER BY r.ordinality
    ON CONFLICT (campaign, day, state, ref, channel, slot) DO UPDATE SET
        queued = t.queued + excluded.queued, sending = t.sending + excluded.sending,
        delivered = t.delivered + excluded.delivered,
        needs_constituent = t.needs_constituent + excluded.needs_constituent,
        handed_off = t.handed_off + excluded.handed_off, failed = t.failed + excluded.failed;

    INSERT INTO campaign_constituents (campaign, constituent_key)
    SELECT r.campaign, r.constituent_key
    FROM jsonb_populate_recordset(NULL::campaign_constituents, p -> 'campaign_constituents')
         WITH ORDINALITY AS r
    ORDER BY r.ordinality
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS new_constituents = ROW_COUNT;

    INSERT INTO action_hour_counts AS t (campaign, day, hour, slot, n)
    SELECT r.campaign, r.day, r.hour, r.slot, r.n
    FROM jsonb_populate_record(NULL::action_hour_counts, p -> 'action_hour_counts') AS r
    ON CONFLICT (campaign, day, hour, slot) DO UPDATE SET n = t.n + excluded.n;

    INSERT INTO campaign_counts AS t (campaign, slot, actions, constituents, queued, sending, delivered,
                                      needs_constituent, handed_off, failed, updated_at)
    SELECT r.campaign, r.slot, r.actions, new_constituents, r.queued, r.sending, r.delivered,
           r.needs_constituent, r.handed_off, r.failed, r.updated_at
    FROM jsonb_populate_record(NULL::campaign_counts, p -> 'campaign_counts') AS r
    ON CONFLICT (campaign, slot) DO UPDATE SET
        actions = t.actions + excluded.actions, constituents = t.constituents + excluded.constituents,
        queued = t.queued + excluded.queued, sending = t.sending + excluded.sending,
        delivered = t.delivered + excluded.delivered,
        needs_constituent = t.needs_constituent + excluded.needs_constituent,
        handed_off = t.handed_off + excluded.handed_off, failed = t.failed + excluded.failed,
        updated_at = excluded.updated_at;
    RETURN new_constituents;
END
$fn$
"""

event.listen(Base.metadata, "after_create", DDL(COUNT_SUBMIT_FUNCTION).execute_if(dialect="postgresql"))
event.listen(Base.metadata, "before_drop", DDL("DROP FUNCTION IF EXISTS count_submit(jsonb)")
             .execute_if(dialect="postgresql"))


class FunnelCount(Base):
    """How far visitors got, per campaign × day × source: page views, ZIP lookups, letter forms shown.

    Anonymous tallies (no cookie, no address, no visitor id), counted in each web process's memory and
    added here in batches by services.funnel; letters written come from `action_counts`. `slot` is 0 for
    now: the key leaves room to spread a busy campaign's increments over several rows.
    """

    __tablename__ = "funnel_counts"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC day, as the other roll-ups
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when the visit had no ref
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    forms: Mapped[int] = mapped_column(Integer, default=0)


# The delivery view lists a campaign's failed and waiting messages, newest first.
Index("ix_messages_campaign_status", Message.campaign, Message.status, Message.updated_at)
# "Deliver to offices": the letters waiting per member of a campaign (channel packet, queued, in no packet)
# are one range of this index, already grouped by member.
Index("ix_messages_packet_waiting", Message.campaign, Message.channel, Message.status, Message.packet_id,
      Message.bioguide)
# Letters ended because their member left office, counted apart: a partial index of just those rows (not
# of last_error itself, whose long texts a PostgreSQL index could not hold). A query must write the two
# values into its SQL, not bind them, for SQLite to use it (services.packets.left_office_count).
_LEFT_OFFICE_ROWS = and_(Message.status == "failed", Message.last_error == LEFT_OFFICE)
Index("ix_messages_left_office", Message.campaign, sqlite_where=_LEFT_OFFICE_ROWS,
      postgresql_where=_LEFT_OFFICE_ROWS)


class Packet(Base):
    """One member's waiting letters, frozen for the organization to deliver to the office in bulk.

    `letters` is a JSON snapshot of what each letter said and who wrote it, taken when the packet was made:
    its downloads never change, even after `actiontool purge` clears the messages' personal data.
    """

    __tablename__ = "packets"
    __table_args__ = (Index("ix_packets_campaign", "campaign", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(64))
    bioguide: Mapped[str] = mapped_column(String(10))
    member_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))
    letter_count: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    letters: Mapped[str] = mapped_column(Text)  # JSON list, one object per letter (services.packets)
    delivered_on: Mapped[date | None] = mapped_column(Date)  # the day it reached the office
    delivered_how: Mapped[str | None] = mapped_column(String(20))  # one of DELIVERED_HOW
    delivered_note: Mapped[str | None] = mapped_column(Text)
    delivered_by: Mapped[str | None] = mapped_column(String(320))
    delivered_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BotSubmission(Base):
    """A compose form that looked automated (honeypot filled, sent too fast): answered like a success,
    recorded here instead of as an action, so organizers see how much was kept out of their counts."""

    __tablename__ = "bot_submissions"
    __table_args__ = (Index("ix_bot_submissions_campaign_day", "campaign", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # UTC day
    reason: Mapped[str] = mapped_column(String(20))  # services.bots.REASONS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Roll-ups of the packet letters waiting for the organization (channel packet, queued, in no packet), kept
# exact by actiontool.services.packet_counts, so "Deliver to offices" never scans the waiting letters.
class PacketWaitingDay(Base):
    """Waiting packet letters per campaign × member × day."""

    __tablename__ = "packet_waiting_days"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))
    district: Mapped[int | None] = mapped_column(Integer)
    chamber: Mapped[str] = mapped_column(String(6))
    n: Mapped[int] = mapped_column(Integer, default=0)


class PacketWaitingPlace(Base):
    """Waiting packet letters per campaign × member × ZIP × city (as the constituents wrote them)."""

    __tablename__ = "packet_waiting_places"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(10), primary_key=True)
    zip: Mapped[str] = mapped_column(String(10), primary_key=True)  # "" when unknown
    city: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" when unknown
    n: Mapped[int] = mapped_column(Integer, default=0)


class PacketWaitingMember(Base):
    """Per campaign × member: the waiting letters, their dates and top places, summed from the two roll-ups
    above whenever they change, so "Deliver to offices" reads one row per member."""

    __tablename__ = "packet_waiting_members"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)
    bioguide: Mapped[str] = mapped_column(String(10), primary_key=True)
    member_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    district: Mapped[int | None] = mapped_column(Integer)
    chamber: Mapped[str] = mapped_column(String(6), default="")
    letters: Mapped[int] = mapped_column(Integer, default=0)
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    top_zips: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[zip, letters], ...], most first
    top_cities: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[city, letters], ...], most first
class SignInThrottle(Base):
    """Sign-in attempts of one key (an account from one address, or one address) in the current window.

    Counted with one atomic upsert per attempt before any password is checked, so concurrent guesses
    cannot all slip under the limit; `burst_event_id` is the audit row that counts this window's
    throttled attempts (one row per burst, not one per attempt).
    """

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the account and address
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    throttled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    burst_event_id: Mapped[int | None] = mapped_column(Integer)


class UsedFormToken(Base):
    """A compose form's signed start token that was sent once: sending it again is a replay."""

    __tablename__ = "used_form_tokens"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # deletable after this
