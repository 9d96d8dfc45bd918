"""Pro-rata allocation in exact integers: a subscription book, and any amount split by weights.

Rounding rule (largest remainder, Hamilton's method), used everywhere an amount is shared:

1. each share gets ``floor(total x weight / sum of weights)``;
2. the units this leaves over (fewer than the number of shares) go one each to the shares
   with the largest remainders ``total x weight mod sum of weights``;
3. equal remainders go to the earlier share (for a book: the order booked first).

The parts always add up to ``total`` exactly, no share gets more than one unit above its exact
quota, and for a book no order gets more than it asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringValueError


class AllocationError(ScoringValueError):
    """An order or weight the allocation cannot accept."""


def split_pro_rata(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` by the largest-remainder rule (see module)."""
    _require_count(total, "total")
    for weight in weights:
        _require_count(weight, "weight")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise AllocationError(f"cannot share {total} among weights that are all zero")
        return [0] * len(weights)
    parts = [total * weight // weight_sum for weight in weights]
    leftover = total - sum(parts)
    # Largest remainder first; the earlier position wins a tie.
    ranked = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in ranked[:leftover]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Order:
    """One subscription order: its key (e.g. the subscription id) and the units asked for."""

    key: str
    requested: int


@dataclass(frozen=True)
class OrderAllocation:
    key: str
    requested: int
    allocated: int


@dataclass(frozen=True)
class BookAllocation:
    """The outcome of closing a book: what each order gets, in book order."""

    offered: int
    requested: int
    allocations: tuple[OrderAllocation, ...]

    @property
    def allocated(self) -> int:
        return sum(a.allocated for a in self.allocations)

    @property
    def unallocated(self) -> int:
        """Units left unsold (an undersubscribed book)."""
        return self.offered - self.allocated

    @property
    def oversubscribed(self) -> bool:
        return self.requested > self.offered

    def of(self, key: str) -> int:
        for allocation in self.allocations:
            if allocation.key == key:
                return allocation.allocated
        raise KeyError(key)


def allocate_book(offered: int, orders: Sequence[Order]) -> BookAllocation:
    """Allocate ``offered`` units to ``orders`` (in book order, earliest first).

    Undersubscribed or exactly subscribed: every order is filled. Oversubscribed: the units are
    shared pro rata to the requested amounts by the largest-remainder rule.
    """
    _require_count(offered, "offered units")
    keys = [order.key for order in orders]
    if len(set(keys)) != len(keys):
        raise AllocationError("order keys must be unique")
    for order in orders:
        if not isinstance(order.requested, int) or isinstance(order.requested, bool) or order.requested <= 0:
            raise AllocationError(f"order {order.key!r} must ask for a positive whole number of units")
    requested = sum(order.requested for order in orders)
    if requested <= offered:
        allocated = [order.requested for order in orders]
    else:
        allocated = split_pro_rata(offered, [order.requested for order in orders])
    return BookAllocation(
        offered=offered,
        requested=requested,
        allocations=tuple(
            OrderAllocation(order.key, order.requested, units) for order, units in zip(orders, allocated)
        ),
    )


def _require_count(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise AllocationError(f"{what} must be a non-negative integer, got {value!r}")
