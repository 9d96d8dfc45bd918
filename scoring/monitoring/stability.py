"""Population and characteristic stability (PSI, CSI): has the pack drifted since issuance?

PSI = sum over bins of (a - e) x ln(a / e), with e and a each bin's share at issuance
(expected) and now (actual). Every term is >= 0, so PSI is 0 only for identical shares.
Conventional reading (`PSI_BANDS`): below 0.1 stable, 0.1 to 0.25 moderate, above 0.25
significant. CSI is the same statistic on one model feature instead of the score.

Empty bins are floored at a small share (default 1e-4, i.e. 0.01%) before the logarithm:
ln(0) is undefined and a bin empty on one side would make PSI infinite, which says
nothing about how much the pack moved. With the floor, a bin that goes from empty to 1%
adds (0.01 - 0.0001) x ln(100) ~ 0.046, visible but not absorbing; a bin empty on both
sides adds exactly 0.

Bins come from the issuance distribution: quantile cut points (ties collapse, so a
count that is 0 for 80% of borrowers gives one "<= 0" bin, not eight empty ones), bins
closed on the right (`edges[i-1] < x <= edges[i]`), then "> last edge", then missing
values in their own last bin. Categorical features get one bin per category plus missing.

PSI is a monitoring statistic, computed in floats; `psi_ppm` is its integer rendering
for the chain (rounded half up, saturating at 2**32 - 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.errors import ScoringValueError

PSI_BANDS = (0.1, 0.25)
DEFAULT_FLOOR = 1e-4
UINT32_MAX = 2**32 - 1
MISSING_LABEL = "missing"


def _shares(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ScoringValueError(f"{name} must be a non-empty one-dimensional sequence of counts or shares")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ScoringValueError(f"{name} must hold finite, non-negative counts or shares")
    total = array.sum()
    if total <= 0:
        raise ScoringValueError(f"{name} is all zero: there is no distribution to compare")
    return array / total


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, *,
        floor: float = DEFAULT_FLOOR) -> float:
    """Population stability index of two binned distributions (per-bin counts or shares)."""
    if not 0 < floor < 1:
        raise ScoringValueError(f"floor must lie strictly between 0 and 1, got {floor!r}")
    e = _shares("expected", expected)
    a = _shares("actual", actual)
    if e.size != a.size:
        raise ScoringValueError(f"expected has {e.size} bins but actual has {a.size}")
    e, a = np.maximum(e, floor), np.maximum(a, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float) -> str:
    """"stable" below 0.1, "moderate" from 0.1 to 0.25 inclusive, "significant" above."""
    if math.isnan(value) or value < 0:
        raise ScoringValueError(f"a PSI is a non-negative number, got {value!r}")
    low, high = PSI_BANDS
    if value < low:
        return "stable"
    return "moderate" if value <= high else "significant"


def psi_ppm(value: float) -> int:
    """PSI x 1e6 as an integer, rounded half up and saturating at 2**32 - 1 (a uint32 on chain)."""
    if math.isnan(value) or value < 0:
        raise ScoringValueError(f"a PSI is a non-negative number, got {value!r}")
    if value * 1_000_000 >= UINT32_MAX:
        return UINT32_MAX
    return int(math.floor(value * 1_000_000 + 0.5))


def _numbers(values: object) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="raise").to_numpy(dtype=float, na_value=np.nan)


def quantile_edges(values: object, bins: int = 10) -> np.ndarray:
    """Unique cut points at the 1/bins ... (bins-1)/bins quantiles of the non-missing values."""
    if not isinstance(bins, int) or bins < 2:
        raise ScoringValueError(f"bins must be an integer >= 2, got {bins!r}")
    numbers = _numbers(values)
    numbers = numbers[~np.isnan(numbers)]
    if numbers.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(numbers, np.arange(1, bins) / bins, method="inverted_cdf"))


def binned_counts(values: object, edges: np.ndarray) -> np.ndarray:
    """Counts per bin: `<= edges[0]`, ..., `> edges[-1]`, then missing (len(edges) + 2 bins)."""
    numbers = _numbers(values)
    missing = np.isnan(numbers)
    positions = np.searchsorted(np.asarray(edges, dtype=float), numbers[~missing], side="left")
    counts = np.bincount(positions, minlength=len(edges) + 1)
    return np.append(counts, int(missing.sum())).astype(np.int64)


def bin_labels(edges: np.ndarray) -> tuple[str, ...]:
    """Readable labels of the bins `binned_counts` returns."""
    if len(edges) == 0:
        return ("all", MISSING_LABEL)
    inner = [f"({low:g}, {high:g}]" for low, high in zip(edges, edges[1:])]
    return (f"<= {edges[0]:g}", *inner, f"> {edges[-1]:g}", MISSING_LABEL)


@dataclass(frozen=True)
class StabilityResult:
    """A PSI/CSI with its band and the bins it was computed from."""

    value: float
    band: str
    expected_counts: tuple[int, ...]
    actual_counts: tuple[int, ...]
    labels: tuple[str, ...]

    @property
    def ppm(self) -> int:
        return psi_ppm(self.value)


def stability_of(expected: np.ndarray, actual: np.ndarray, labels: Sequence[str]) -> StabilityResult:
    """The PSI of binned counts, with its band and the bins (also used on stored baselines)."""
    value = psi(expected, actual)
    return StabilityResult(value, psi_band(value), tuple(int(c) for c in expected), tuple(int(c) for c in actual),
                           tuple(labels))


def _numeric_result(baseline: object, current: object, bins: int) -> StabilityResult:
    edges = quantile_edges(baseline, bins)
    return stability_of(binned_counts(baseline, edges), binned_counts(current, edges), bin_labels(edges))


def is_categorical(column: pd.Series) -> bool:
    """Whether a feature is binned by category rather than by quantile."""
    return (isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column)
            or pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column))


def category_counts(column: pd.Series, categories: list[str]) -> np.ndarray:
    """Counts of each category, in the order given, then of missing values."""
    present = column.dropna().astype(str).value_counts()
    return np.array([int(present.get(c, 0)) for c in categories] + [int(column.isna().sum())], dtype=np.int64)


def _categorical_result(baseline: pd.Series, current: pd.Series) -> StabilityResult:
    # Issuance categories first (in their own order), then categories new since issuance.
    known = [str(c) for c in pd.unique(baseline.dropna().astype(str))]
    if isinstance(baseline.dtype, pd.CategoricalDtype):
        known = [str(c) for c in baseline.cat.categories]
    new = sorted(set(current.dropna().astype(str)) - set(known))
    categories = known + new
    return stability_of(category_counts(baseline, categories), category_counts(current, categories),
                   (*categories, MISSING_LABEL))


def csi(baseline: pd.DataFrame, current: pd.DataFrame, features: Sequence[str],
        bins: int = 10) -> dict[str, StabilityResult]:
    """Characteristic stability of each feature between the issuance and the current records."""
    results: dict[str, StabilityResult] = {}
    for feature in features:
        for name, frame in (("baseline", baseline), ("current", current)):
            if feature not in frame.columns:
                raise ScoringValueError(f"feature {feature!r} is missing from the {name} records")
        if is_categorical(baseline[feature]):
            results[feature] = _categorical_result(baseline[feature], current[feature])
        else:
            results[feature] = _numeric_result(baseline[feature], current[feature], bins)
    return results


def score_psi(baseline_scores: object, current_scores: object, bins: int = 10) -> StabilityResult:
    """PSI of the model score, binned by the issuance scores' quantiles."""
    return _numeric_result(baseline_scores, current_scores, bins)
