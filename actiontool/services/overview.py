"""The organizers' campaign overview: per campaign, letters written today, in the last 7 days and in all.

Answered from the roll-ups, whatever the number of messages: the totals from `campaign_counts` (one
row per campaign) and the last seven days from the member roll-up, a range of its primary key
(campaign, day, ...) per campaign. "Written" has its one meaning (services.counts): every message except
failed ones; the goal bar uses the same count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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


def overview(session: Session, campaigns: Sequence[str], today: date) -> dict[str, CampaignOverview]:
    """Return each campaign's overview line, the last seven days ending with `today` (a UTC day)."""
    if not campaigns:
        return {}
    window = last_days(today)
    t = CAMPAIGN_COUNTS.c
    # Summed over the campaign's slots: on PostgreSQL a campaign's totals are spread over many rows.
    totals = {row.campaign: row for row in session.execute(
        select(t.campaign, func.sum(t.actions).label("actions"), *(func.sum(t[s]).label(s) for s in STATUSES))
        .where(t.campaign.in_(list(campaigns))).group_by(t.campaign))}
    m = MEMBER_COUNTS.c
    written = sum((m[s] for s in WRITTEN_STATUSES[1:]), m[WRITTEN_STATUSES[0]])
    result = {}
    for campaign in campaigns:
        per_day: dict[date, int] = dict(session.execute(
            select(m.day, func.sum(written)).where(m.campaign == campaign, m.day >= window[0],
                                                   m.day <= window[-1]).group_by(m.day)).all())
        row = totals.get(campaign)
        statuses = {s: int(getattr(row, s)) if row is not None else 0 for s in STATUSES}
        result[campaign] = CampaignOverview(
            campaign=campaign, actions=int(row.actions) if row is not None else 0,
            written=count_of("written", statuses), messages=sum(statuses.values()),
            sent=count_of("sent", statuses),
            days=tuple((day, int(per_day.get(day) or 0)) for day in window))
    return result
