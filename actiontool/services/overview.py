"""The organizers' campaign overview: per campaign, letters written today, in the last 7 days and in all.

Answered from the roll-ups, whatever the number of messages: the totals from `campaign_counts` (a few
rows per campaign) and the last seven days from the member roll-up, a range of its primary key
(campaign, day, ...) per campaign, in one statement for all campaigns. The page keeps each campaign's days
while its totals row is unchanged (`version`), so a warm page reads `campaign_counts` only. "Written"
has its one meaning (services.counts): every message except failed ones; the goal bar uses the same count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actiontool.models import STATUSES
from actiontool.services.counts import CAMPAIGN_COUNTS, MEMBER_COUNTS, WRITTEN_STATUSES, count_of

DAYS = 7


@dataclass(frozen=True, slots=True)
class CampaignOverview:
    """One campaign's line of the overview."""

    campaign: str
    actions: int
    written: int  # all time
    messages: int  # all time, failed ones included
    sent: int  # all time: delivered or handed off
    days: tuple[tuple[date, int], ...]  # letters written per day, the last DAYS days, oldest first

    @property
    def today(self) -> int:
        """Return the letters written today."""
        return self.days[-1][1]

    @property
    def last_days(self) -> int:
        """Return the letters written in the last DAYS days (today included)."""
        return sum(n for _, n in self.days)

    def progress(self, goal: int) -> int | None:
        """Return the written count's progress to `goal` in whole percent (at most 100); None without one."""
        return min(100, 100 * self.written // goal) if goal > 0 else None


def last_days(today: date, days: int = DAYS) -> list[date]:
    """Return the `days` days ending with `today`, oldest first."""
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def totals(session: Session, campaigns: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Return the totals of every campaign with counts (or of `campaigns`), summed over their slots.

    One statement over `campaign_counts` (a few rows per campaign): actions, every status and the latest
    `updated_at`, which with the others versions a campaign's counts (see `version`).
    """
    t = CAMPAIGN_COUNTS.c
    stmt = select(t.campaign, func.sum(t.actions), *(func.sum(t[s]) for s in STATUSES),
                  func.max(t.updated_at)).group_by(t.campaign)
    if campaigns is not None:
        stmt = stmt.where(t.campaign.in_(list(campaigns)))
    result = {}
    for campaign, actions, *rest in session.execute(stmt):
        *statuses, updated_at = rest
        result[campaign] = {"actions": int(actions or 0), "updated_at": updated_at,
                            **{s: int(n or 0) for s, n in zip(STATUSES, statuses, strict=True)}}
    return result


def version(counted: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """Return what changes whenever a campaign's counts change: its totals row, `updated_at` included.

    Every transaction that moves a roll-up also adds to the campaign's totals row (services.counts), so a
    per-day count can be reused for as long as this stays the same, as the dashboard reuses its counts.
    """
    if counted is None:
        return None
    return (str(counted["updated_at"]), counted["actions"], *(counted[s] for s in STATUSES))


def written_per_day(session: Session, campaigns: Sequence[str], today: date) -> dict[str, dict[date, int]]:
    """Return each campaign's letters written per day over the DAYS days ending with `today`.

    One statement for all the campaigns: a range of the member roll-up's primary key (campaign, day, ...)
    per campaign, summed over members, channels and slots.
    """
    if not campaigns:
        return {}
    window = last_days(today)
    m = MEMBER_COUNTS.c
    written = sum((m[s] for s in WRITTEN_STATUSES[1:]), m[WRITTEN_STATUSES[0]])
    result: dict[str, dict[date, int]] = {c: {} for c in campaigns}
    for campaign, day, n in session.execute(
            select(m.campaign, m.day, func.sum(written))
            .where(m.campaign.in_(list(campaigns)), m.day >= window[0], m.day <= window[-1])
            .group_by(m.campaign, m.day)):
        result[campaign][day] = int(n or 0)
    return result


def line(campaign: str, counted: dict[str, Any] | None, per_day: dict[date, int],
         today: date) -> CampaignOverview:
    """Return a campaign's overview line from its totals (None: nothing counted) and its days."""
    statuses = {s: int(counted[s]) if counted is not None else 0 for s in STATUSES}
    return CampaignOverview(
        campaign=campaign, actions=int(counted["actions"]) if counted is not None else 0,
        written=count_of("written", statuses), messages=sum(statuses.values()),
        sent=count_of("sent", statuses),
        days=tuple((day, int(per_day.get(day) or 0)) for day in last_days(today)))


def overview(session: Session, campaigns: Sequence[str], today: date) -> dict[str, CampaignOverview]:
    """Return each campaign's overview line, the last seven days ending with `today` (a local day)."""
    if not campaigns:
        return {}
    counted = totals(session, campaigns)
    per_day = written_per_day(session, campaigns, today)
    return {c: line(c, counted.get(c), per_day[c], today) for c in campaigns}
