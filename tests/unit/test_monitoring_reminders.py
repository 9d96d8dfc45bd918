"""Reminder cadence: calendar months, weekly escalation of flagged loans."""

from __future__ import annotations

from datetime import date

from scoring.monitoring.reminders import Cadence, ReminderPlan, advance, due, escalate_to_weekly, next_due


def test_monthly_is_the_same_day_next_month_clipped_and_the_anchor_comes_back() -> None:
    assert next_due(date(2025, 1, 15), Cadence.MONTHLY) == date(2025, 2, 15)
    assert next_due(date(2025, 1, 31), Cadence.MONTHLY) == date(2025, 2, 28)
    assert next_due(date(2024, 1, 31), Cadence.MONTHLY) == date(2024, 2, 29)
    assert next_due(date(2025, 2, 28), Cadence.MONTHLY, anchor_day=31) == date(2025, 3, 31)
    assert next_due(date(2025, 12, 15), Cadence.MONTHLY) == date(2026, 1, 15)
    assert next_due(date(2025, 12, 29), Cadence.WEEKLY) == date(2026, 1, 5)


def plans() -> list[ReminderPlan]:
    return [
        ReminderPlan("L1", "B1", Cadence.MONTHLY, date(2025, 8, 20), anchor_day=20),
        ReminderPlan("L2", "B2", Cadence.MONTHLY, date(2025, 8, 3), anchor_day=3),
        ReminderPlan("L3", "B3", Cadence.MONTHLY, date(2025, 8, 25), anchor_day=25),
    ]


def test_escalation_changes_only_the_named_loans_and_never_delays_a_reminder() -> None:
    escalated = escalate_to_weekly(plans(), ["L1", "L2", "L9"], today=date(2025, 8, 1))
    assert escalated[0] == ReminderPlan("L1", "B1", Cadence.WEEKLY, date(2025, 8, 8), anchor_day=20)
    assert escalated[1] == ReminderPlan("L2", "B2", Cadence.WEEKLY, date(2025, 8, 3), anchor_day=3)
    assert escalated[2] == plans()[2]


def test_due_lists_overdue_and_today_oldest_first() -> None:
    assert [p.loan_id for p in due(plans(), date(2025, 8, 20))] == ["L2", "L1"]
    assert due(plans(), date(2025, 8, 2)) == []


def test_advance_keeps_the_anchor_and_counts_an_early_send_from_its_due_date() -> None:
    monthly = ReminderPlan("L1", "B1", Cadence.MONTHLY, date(2025, 1, 31), anchor_day=31)
    after_jan = advance(monthly, date(2025, 1, 31))
    assert after_jan.next_due == date(2025, 2, 28)
    assert advance(after_jan, date(2025, 2, 28)).next_due == date(2025, 3, 31)
    weekly = ReminderPlan("L2", "B2", Cadence.WEEKLY, date(2025, 8, 8))
    assert advance(weekly, date(2025, 8, 10)).next_due == date(2025, 8, 17)  # sent late: a week from sending
    assert advance(weekly, date(2025, 8, 6)).next_due == date(2025, 8, 15)  # sent early: a week from due
