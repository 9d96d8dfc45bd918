"""A product's stability baseline, kept as bins rather than as the issuance data itself.

At issuance the platform records, for the model score and every credit feature, the bin edges
(numeric: the issuance quantiles; categorical: the categories seen) and the issuance counts.
Each cycle's PSI and CSI are then computed against those stored bins, so the baseline is a
few kilobytes of JSON however large the pack, and no borrower's record has to be kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.monitoring.stability import (
    MISSING_LABEL,
    StabilityResult,
    bin_labels,
    binned_counts,
    category_counts,
    is_categorical,
    quantile_edges,
    stability_of,
)

DEFAULT_BINS = 10


@dataclass(frozen=True)
class FeatureBins:
    kind: str  # numeric | categorical
    edges: tuple[float, ...] = ()  # numeric
    categories: tuple[str, ...] = ()  # categorical
    counts: tuple[int, ...] = ()  # issuance counts, missing last

    def current_counts(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """(expected, actual, labels); a category new since issuance gets its own bin, empty at issuance."""
        if self.kind == "numeric":
            edges = np.asarray(self.edges, dtype=float)
            return np.asarray(self.counts), binned_counts(values, edges), bin_labels(edges)
        known = list(self.categories)
        new = sorted(set(values.dropna().astype(str)) - set(known))
        expected = np.asarray(list(self.counts[:-1]) + [0] * len(new) + [self.counts[-1]], dtype=np.int64)
        return expected, category_counts(values, known + new), (*known, *new, MISSING_LABEL)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "edges": list(self.edges), "categories": list(self.categories),
                "counts": list(self.counts)}

    @classmethod
    def of(cls, values: pd.Series, bins: int = DEFAULT_BINS) -> FeatureBins:
        if is_categorical(values):
            categories = tuple(str(c) for c in (values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype)
                                                 else pd.unique(values.dropna().astype(str))))
            return cls("categorical", categories=categories,
                       counts=tuple(int(c) for c in category_counts(values, list(categories))))
        edges = quantile_edges(values, bins)
        return cls("numeric", edges=tuple(float(e) for e in edges),
                   counts=tuple(int(c) for c in binned_counts(values, edges)))


@dataclass(frozen=True)
class Baseline:
    score: FeatureBins
    features: dict[str, FeatureBins] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"score": self.score.to_dict(), "features": {k: v.to_dict() for k, v in self.features.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> Baseline:
        def bins(d: dict) -> FeatureBins:
            return FeatureBins(d["kind"], tuple(d["edges"]), tuple(d["categories"]), tuple(d["counts"]))

        return cls(bins(data["score"]), {k: bins(v) for k, v in data.get("features", {}).items()})


def baseline_of(scores: object, records: pd.DataFrame, features: Sequence[str], bins: int = DEFAULT_BINS) -> Baseline:
    score = FeatureBins.of(pd.Series(np.asarray(scores, dtype=float)), bins)
    return Baseline(score, {name: FeatureBins.of(records[name], bins) for name in features if name in records})


def _stability(bins: FeatureBins, values: pd.Series) -> StabilityResult:
    expected, actual, labels = bins.current_counts(values)
    return stability_of(expected, actual, labels)


def score_stability(baseline: Baseline, scores: object) -> StabilityResult:
    """PSI of the current scores against the issuance score bins."""
    return _stability(baseline.score, pd.Series(np.asarray(scores, dtype=float)))


def feature_stability(baseline: Baseline, records: pd.DataFrame) -> dict[str, StabilityResult]:
    """CSI of every baseline feature present in the current records."""
    return {name: _stability(bins, records[name]) for name, bins in baseline.features.items() if name in records}
