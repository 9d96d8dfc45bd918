"""Repayment reminder cadence: monthly by default, weekly for loans a trigger has flagged.

Monthly means the same calendar day next month, clipped to the month's end; a plan keeps
its `anchor_day` so a loan due on the 31st is reminded on Feb 28 and again on Mar 31,
not drifting to the 28th for good. Weekly means seven days later.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from scoring.errors import ScoringValueError

WEEK = dt.timedelta(days=7)


class Cadence(str, Enum):
    MONTHLY = "monthly"
    WEEKLY = "weekly"


def add_months(day: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """The `anchor_day` (default: `day`'s own day) `months` later, clipped to that month's end."""
    anchor = day.day if anchor_day is None else anchor_day
    if not 1 <= anchor <= 31:
        raise ScoringValueError(f"anchor_day must lie in 1..31, got {anchor_day}")
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(anchor, calendar.monthrange(year, month + 1)[1]))


def next_due(after: dt.date, cadence: Cadence, anchor_day: int | None = None) -> dt.date:
    """The next reminder date after `after`: seven days later, or the anchor day next month."""
    if Cadence(cadence) is Cadence.WEEKLY:
        return after + WEEK
    return add_months(after, 1, anchor_day)


@dataclass(frozen=True)
class ReminderPlan:
    loan_id: str
    borrower_id: str
    cadence: Cadence
    next_due: dt.date
    anchor_day: int | None = None


def escalate_to_weekly(plans: Sequence[ReminderPlan], loan_ids: Iterable[str], today: dt.date) -> list[ReminderPlan]:
    """The plans with the named loans switched to weekly, due no later than a week from today.

    Other plans are returned unchanged; names without a plan (e.g. a loan already repaid)
    are ignored, since a trigger's affected loans may include them.
    """
    named = set(loan_ids)
    latest = today + WEEK
    return [
        replace(plan, cadence=Cadence.WEEKLY, next_due=min(plan.next_due, latest)) if plan.loan_id in named else plan
        for plan in plans
    ]


def due(plans: Sequence[ReminderPlan], today: dt.date) -> list[ReminderPlan]:
    """Plans whose reminder is due today or overdue, oldest first (then by loan id)."""
    return sorted((p for p in plans if p.next_due <= today), key=lambda p: (p.next_due, p.loan_id))


def advance(plan: ReminderPlan, sent_on: dt.date) -> ReminderPlan:
    """The plan after its reminder went out on `sent_on` (a reminder sent early still counts from its due date)."""
    return replace(plan, next_due=next_due(max(sent_on, plan.next_due), plan.cadence, plan.anchor_day))
