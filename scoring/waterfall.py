"""The payment waterfall of a tranched product, one period at a time, in exact integer minor units.

Tranches are ordered most senior first. In each period:

1. **Interest.** Each tranche is due ``floor(opening principal x coupon_bps / (10,000 x
   payments per year))`` (rounded down, the fraction stays in the pool) plus any interest it
   was short of in earlier periods. Collected interest pays the most senior tranche's due in
   full first, then the next one's; what a tranche does not get is carried to the next period
   as its shortfall (deferred interest stays owed, even by a tranche written down to zero).
   Interest left after every tranche's due is the **residual** (excess spread), released to
   the residual holder (the originator); it does not cover losses.
2. **Losses.** Principal written off on defaulted assets reduces the tranches' principal from
   the most junior up: the subordinated tranche absorbs losses until it is exhausted, only then
   does the senior tranche lose principal.
3. **Principal.** Collected principal is paid **sequentially**: all of it to the most senior
   tranche until that tranche is repaid, then to the next one, and so on.

Losses are taken before principal is paid so that cash never repays principal a loss has
already erased. Principal collected plus principal written off may not exceed the tranches'
outstanding principal: the pool cannot return or lose more than it holds, so tranche principal
always equals the pool's balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringValueError

BPS = 10_000
PAYMENT_FREQUENCIES = (1, 2, 4, 12)


class WaterfallError(ScoringValueError):
    """Inputs the waterfall cannot accept (negative cash, more principal than outstanding...)."""


@dataclass(frozen=True)
class TrancheState:
    """A tranche between periods: principal outstanding and interest still owed to it."""

    name: str
    outstanding: int
    coupon_bps: int
    interest_shortfall: int = 0


@dataclass(frozen=True)
class Collections:
    """What the pool's assets produced in one period, in minor units."""

    interest: int
    principal: int
    defaults: int = 0  # principal written off on defaulted assets


@dataclass(frozen=True)
class TrancheFlows:
    """One tranche's line of a period's distribution."""

    name: str
    opening: int
    interest_due: int  # this period's coupon on the opening principal
    shortfall_brought: int
    interest_paid: int
    shortfall_carried: int
    loss: int
    principal_paid: int
    closing: int
    coupon_bps: int

    def to_dict(self) -> dict[str, int | str]:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


@dataclass(frozen=True)
class PeriodDistribution:
    """Everything one period moved, tranche by tranche, and what is left for the residual holder."""

    period: int
    collections: Collections
    tranches: tuple[TrancheFlows, ...]
    residual: int

    @property
    def closing_states(self) -> tuple[TrancheState, ...]:
        """The tranches as the next period starts."""
        return tuple(
            TrancheState(t.name, t.closing, t.coupon_bps, t.shortfall_carried) for t in self.tranches
        )

    def to_dict(self) -> dict:
        return {
            "period": self.period,
            "collections": {
                "interest": self.collections.interest,
                "principal": self.collections.principal,
                "defaults": self.collections.defaults,
            },
            "tranches": [t.to_dict() for t in self.tranches],
            "residual": self.residual,
        }


def interest_due(outstanding: int, coupon_bps: int, payments_per_year: int) -> int:
    """One period's coupon on ``outstanding``, rounded down to the minor unit."""
    return outstanding * coupon_bps // (BPS * payments_per_year)


def distribute_period(
    period: int,
    tranches: Sequence[TrancheState],
    collections: Collections,
    payments_per_year: int,
) -> PeriodDistribution:
    """One period of the waterfall (see the module docstring for the order and the rules)."""
    _validate(tranches, collections, payments_per_year)
    if period < 1:
        raise WaterfallError(f"periods are numbered from 1, got {period}")

    interest_left = collections.interest
    due, paid = [], []
    for tranche in tranches:  # senior first
        owed = interest_due(tranche.outstanding, tranche.coupon_bps, payments_per_year)
        pay = min(interest_left, owed + tranche.interest_shortfall)
        interest_left -= pay
        due.append(owed)
        paid.append(pay)

    losses = [0] * len(tranches)
    loss_left = collections.defaults
    for i in reversed(range(len(tranches))):  # junior first
        losses[i] = min(loss_left, tranches[i].outstanding)
        loss_left -= losses[i]

    principal_left = collections.principal
    principal = []
    for tranche, loss in zip(tranches, losses):  # senior first, sequential
        pay = min(principal_left, tranche.outstanding - loss)
        principal_left -= pay
        principal.append(pay)
    assert loss_left == 0 and principal_left == 0, "validated: principal + defaults <= outstanding"

    flows = tuple(
        TrancheFlows(
            name=t.name,
            opening=t.outstanding,
            interest_due=due[i],
            shortfall_brought=t.interest_shortfall,
            interest_paid=paid[i],
            shortfall_carried=due[i] + t.interest_shortfall - paid[i],
            loss=losses[i],
            principal_paid=principal[i],
            closing=t.outstanding - losses[i] - principal[i],
            coupon_bps=t.coupon_bps,
        )
        for i, t in enumerate(tranches)
    )
    return PeriodDistribution(period=period, collections=collections, tranches=flows, residual=interest_left)


def run_waterfall(
    tranches: Sequence[TrancheState],
    periods: Sequence[Collections],
    payments_per_year: int,
    *,
    first_period: int = 1,
) -> list[PeriodDistribution]:
    """Consecutive periods, each starting from the previous one's closing states."""
    results = []
    states = tuple(tranches)
    for offset, collections in enumerate(periods):
        result = distribute_period(first_period + offset, states, collections, payments_per_year)
        results.append(result)
        states = result.closing_states
    return results


def initial_states(sizes: Sequence[int], coupons_bps: Sequence[int], names: Sequence[str]) -> tuple[TrancheState, ...]:
    """Tranches at issuance: principal = size, nothing owed yet."""
    if not (len(sizes) == len(coupons_bps) == len(names)):
        raise WaterfallError("one size, coupon and name per tranche")
    return tuple(TrancheState(n, s, c) for n, s, c in zip(names, sizes, coupons_bps))


def _validate(tranches: Sequence[TrancheState], collections: Collections, payments_per_year: int) -> None:
    if payments_per_year not in PAYMENT_FREQUENCIES:
        raise WaterfallError(f"payments per year must be one of {PAYMENT_FREQUENCIES}, got {payments_per_year}")
    if not tranches:
        raise WaterfallError("a waterfall needs at least one tranche")
    for tranche in tranches:
        for what, value in (("outstanding", tranche.outstanding), ("interest shortfall", tranche.interest_shortfall)):
            _require_amount(value, f"tranche {tranche.name!r} {what}")
        if not isinstance(tranche.coupon_bps, int) or not 0 <= tranche.coupon_bps <= BPS:
            raise WaterfallError(f"tranche {tranche.name!r}: a coupon is 0..{BPS} bps, got {tranche.coupon_bps!r}")
    for what in ("interest", "principal", "defaults"):
        _require_amount(getattr(collections, what), f"collected {what}")
    outstanding = sum(t.outstanding for t in tranches)
    if collections.principal + collections.defaults > outstanding:
        raise WaterfallError(
            f"principal collected ({collections.principal}) plus written off ({collections.defaults}) "
            f"exceeds the tranches' outstanding principal ({outstanding})"
        )


def _require_amount(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WaterfallError(f"{what} must be a non-negative integer of minor units, got {value!r}")
