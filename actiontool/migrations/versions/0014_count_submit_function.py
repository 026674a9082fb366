"""count_submit(): a submit's roll-up writes in one call on PostgreSQL

For issue 17: at 32 concurrent writers the submit's seven roll-up upserts (action, three message
roll-ups, constituents, local hour, campaign totals) cost more in per-statement overhead (a round trip
each; without prepared statements a parse and plan each) than in the rows they change. This PL/pgSQL
function runs the same upserts, in the same order (the writers' lock order), from one JSON argument,
with plans it keeps for the session; services.counts.record_submit calls it. No table or count changes:
every count stays as it is. SQLite has no stored functions and keeps sending the upserts one by one.

The function's text is frozen here as it was at this revision; models.COUNT_SUBMIT_FUNCTION is the
current one, which `create_all` uses for a new database.

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

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


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(COUNT_SUBMIT_FUNCTION)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS count_submit(jsonb)')
