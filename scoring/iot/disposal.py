"""Automatic disposal of a warning (seed 000 §2.2), planned as data for the service to carry out.

* blue: a reminder notice to each borrower of the collateral's loans;
* yellow: freeze ``yellow_freeze_bps`` (10-20 %) of each loan's undrawn credit, notify, open a
  manual review (seed 000: yellow and red warnings trigger manual due diligence);
* red: freeze all undrawn credit of each loan at once, notify, open a manual review.

A freeze only ever goes up automatically: a loan already frozen at or above the planned share
is left alone. Lowering or lifting a freeze is the review's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringValueError
from scoring.iot.telemetry import BPS, Level
from scoring.iot.thresholds import response_deadline_ms

YELLOW_FREEZE_RANGE_BPS = (1_000, 2_000)


@dataclass(frozen=True)
class DisposalPolicy:
    yellow_freeze_bps: int = 1_500

    def __post_init__(self) -> None:
        low, high = YELLOW_FREEZE_RANGE_BPS
        if not low <= self.yellow_freeze_bps <= high:
            raise ScoringValueError(f"a yellow freeze is {low}..{high} bps of the undrawn line, got {self.yellow_freeze_bps}")

    def freeze_bps(self, level: Level) -> int:
        return {Level.RED: BPS, Level.YELLOW: self.yellow_freeze_bps}.get(level, 0)


@dataclass(frozen=True)
class LoanLine:
    """A loan secured by the collateral, its undrawn credit and the share frozen now."""

    loan_id: str
    borrower_id: str
    undrawn_minor: int
    frozen_bps: int = 0


@dataclass(frozen=True)
class Notice:
    borrower_id: str
    loan_ids: tuple[str, ...]
    kind: str  # "reminder" (blue) or "freeze" (yellow, red)


@dataclass(frozen=True)
class Freeze:
    loan_id: str
    frozen_bps: int
    amount_minor: int


@dataclass(frozen=True)
class DisposalPlan:
    level: Level
    notices: tuple[Notice, ...]
    freezes: tuple[Freeze, ...]
    open_review: bool
    respond_within_ms: int


def frozen_amount(undrawn_minor: int, frozen_bps: int) -> int:
    return undrawn_minor * frozen_bps // BPS


def plan_disposal(level: Level, loans: Sequence[LoanLine], policy: DisposalPolicy | None = None) -> DisposalPlan:
    policy = policy or DisposalPolicy()
    target = policy.freeze_bps(level)
    freezes = tuple(
        Freeze(loan.loan_id, target, frozen_amount(loan.undrawn_minor, target))
        for loan in sorted(loans, key=lambda line: line.loan_id)
        if target > loan.frozen_bps
    )
    by_borrower: dict[str, list[str]] = {}
    for loan in loans:
        by_borrower.setdefault(loan.borrower_id, []).append(loan.loan_id)
    kind = "reminder" if level == Level.BLUE else "freeze"
    notices = tuple(Notice(b, tuple(sorted(ids)), kind) for b, ids in sorted(by_borrower.items()))
    return DisposalPlan(level, notices, freezes, level >= Level.YELLOW, response_deadline_ms(level))
