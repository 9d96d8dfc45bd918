"""Exact integer sums of rate x weight over int64 columns, with no int64 overflow.

A pack's bad rate needs sums like sum(pd_ppm x balance): up to 1e6 x 1e12 per asset,
1e24 over a million assets, far past int64. Python ints would be exact but slow per
element. Instead each weight is split into limbs small enough that a whole column's
sum of coefficient x limb fits in int64; numpy sums each limb exactly and the limbs
are recombined with Python ints only where an exact value is needed. For searching a
long running sum, a float64 copy with a proven error bound screens the candidates and
the exact recombination confirms them, so float rounding never decides an outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_INT64_HEADROOM_BITS = 62  # stay one bit below int64's 63 value bits
# Bound on |float value - exact value| relative to the sum of the limb magnitudes: covers
# the int64 -> float64 conversion of each limb (2^-53 each) and the additions (2^-53 each)
# for up to 8 limbs, with room to spare.
_RELATIVE_ERROR = 2.0**-48


def _limb_bits(coefficient_bound: int, count: int) -> int:
    bits = _INT64_HEADROOM_BITS - max(1, coefficient_bound.bit_length()) - max(1, (count + 1).bit_length())
    if bits < 4:
        raise OverflowError("column too long for exact int64 limb sums")
    return bits


def _limbs(weights: np.ndarray, limb_bits: int) -> list[tuple[int, np.ndarray]]:
    """(shift, limb) pairs with weights == sum(limb << shift); a single limb when weights are small."""
    largest = int(weights.max()) if weights.size else 0
    if largest < (1 << limb_bits):
        return [(0, weights)]
    mask = np.int64((1 << limb_bits) - 1)
    return [
        (shift, (weights >> np.int64(shift)) & mask)
        for shift in range(0, max(1, largest.bit_length()), limb_bits)
    ]


def _coefficient_bound(coefficients: np.ndarray) -> int:
    if not coefficients.size:
        return 1
    return max(abs(int(coefficients.min())), abs(int(coefficients.max())), 1)


def exact_dot(coefficients: np.ndarray, weights: np.ndarray) -> int:
    """sum(coefficients * weights) exactly; weights must be non-negative int64."""
    coefficients = np.asarray(coefficients, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.int64)
    limb_bits = _limb_bits(_coefficient_bound(coefficients), coefficients.size)
    return sum(int(np.dot(coefficients, limb)) << shift for shift, limb in _limbs(weights, limb_bits))


def exact_group_sums(values: np.ndarray, groups: np.ndarray, group_count: int) -> list[int]:
    """Exact sum of non-negative int64 `values` per group id 0..group_count-1."""
    values = np.asarray(values, dtype=np.int64)
    totals = [0] * group_count
    for shift, limb in _limbs(values, _limb_bits(1, values.size)):
        partial = np.zeros(group_count, dtype=np.int64)
        np.add.at(partial, groups, limb)
        for group in range(group_count):
            totals[group] += int(partial[group]) << shift
    return totals


class ExactPrefixSums:
    """S[k] = sum(coefficients[i] * weights[i] for i < k), k = 0..n, exact on demand.

    Coefficients are small signed ints (rates in ppm, or rate minus target); weights are
    non-negative int64 (1 per asset, or balances in minor units).
    """

    def __init__(self, coefficients: np.ndarray, weights: np.ndarray) -> None:
        coefficients = np.asarray(coefficients, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.int64)
        if coefficients.shape != weights.shape or coefficients.ndim != 1:
            raise ValueError("coefficients and weights must be one-dimensional and of equal length")
        self.length = coefficients.size
        limb_bits = _limb_bits(_coefficient_bound(coefficients), self.length)
        self._limbs: list[tuple[int, np.ndarray]] = []
        for shift, limb in _limbs(weights, limb_bits):
            running = np.empty(self.length + 1, dtype=np.int64)
            running[0] = 0
            np.cumsum(coefficients * limb, out=running[1:])
            self._limbs.append((shift, running))
        self._approximation: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def total(self) -> int:
        return self.exact_at(self.length)

    def exact_at(self, position: int) -> int:
        return sum(int(running[position]) << shift for shift, running in self._limbs)

    def exact_many(self, positions: Iterable[int]) -> list[int]:
        index = np.fromiter(positions, dtype=np.int64)
        exact = np.zeros(index.size, dtype=object)
        for shift, running in self._limbs:
            exact += running[index].astype(object) * (1 << shift)
        return [int(value) for value in exact]

    def approximate(self) -> tuple[np.ndarray, np.ndarray]:
        """(float64 value of every S[k], a bound on its absolute error)."""
        if self._approximation is None:
            values = np.zeros(self.length + 1)
            magnitude = np.zeros(self.length + 1)
            for shift, running in self._limbs:
                scaled = running.astype(np.float64) * float(1 << shift)
                values += scaled
                magnitude += np.abs(scaled)
            self._approximation = (values, magnitude * _RELATIVE_ERROR)
        return self._approximation


def first_position_reaching(prefix: ExactPrefixSums, threshold: int, candidates: np.ndarray) -> int | None:
    """The first candidate k (ascending) with prefix S[k] >= threshold, decided exactly."""
    values, error = prefix.approximate()
    threshold_float = float(threshold)
    slack = error[candidates] + abs(threshold_float) * _RELATIVE_ERROR + 1.0
    possible = candidates[values[candidates] + slack >= threshold_float]
    for start in range(0, possible.size, 4096):
        chunk = possible[start : start + 4096]
        for position, exact in zip(chunk, prefix.exact_many(chunk)):
            if exact >= threshold:
                return int(position)
    return None
