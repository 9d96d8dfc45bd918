"""The additive points table: a scorecard as plain integers that anyone can re-add.

score = clip(base_points + sum over features of the points of the bin the value falls in, 1, 100)

A numeric feature's bin i holds edges[i-1] <= x < edges[i] (the first bin is open
below, the last open above); a categorical feature's bin is the group holding the
category. A value that is absent gets the feature's `missing_points`; a category
never seen in training gets `other_points`. Nothing else is needed to recompute a
score, which is what lets a contract (or an auditor) check it in integer arithmetic:
for an integer-valued feature, x >= edge is the same test as x >= ceil(edge).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from scoring.model.scale import MAX_SCORE, MIN_SCORE


def as_category_strings(values: pd.Series | np.ndarray | list) -> pd.Series:
    """Categories as strings with absent values kept absent, so codes like 1, 2 match "1", "2"."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        if all(isinstance(c, str) for c in series.cat.categories):
            return series
        return series.cat.rename_categories([str(c) for c in series.cat.categories])
    return series.astype("str").where(series.notna())


def category_codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of each value in `categories`; -1 for an absent value or an unseen category."""
    index = pd.Index(categories, dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Translate the few distinct categories once, then index by the integer codes.
        translated = index.get_indexer(values.cat.categories.astype(object))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, translated[codes], -1)
    return index.get_indexer(values.astype(object))


def as_numbers(values: pd.Series | np.ndarray | list) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _is_absent(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class FeaturePoints:
    feature: str
    kind: Literal["numeric", "categorical"]
    points: tuple[int, ...]
    missing_points: int
    other_points: int
    edges: tuple[float, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()
    # What the points were made from, for people reading the table; scoring ignores them.
    woe: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    bads: tuple[int, ...] = ()

    @property
    def n_bins(self) -> int:
        return len(self.points)

    @property
    def lookup(self) -> np.ndarray:
        """Points by bin index: regular bins, then missing, then other."""
        return np.array([*self.points, self.missing_points, self.other_points], dtype=np.int64)

    @property
    def best_points(self) -> int:
        return max(self.points + (self.missing_points,))

    def labels(self) -> list[str]:
        if self.kind == "numeric":
            bounds = [-math.inf, *self.edges, math.inf]
            regular = [f"[{bounds[i]:g}, {bounds[i + 1]:g})" for i in range(self.n_bins)]
        else:
            regular = [", ".join(group) for group in self.groups]
        return [*regular, "missing", "other"]

    def bin_index(self, values: pd.Series | np.ndarray | list) -> np.ndarray:
        """Vectorised: bin of every value (n_bins = missing, n_bins + 1 = unseen category)."""
        k = self.n_bins
        if self.kind == "numeric":
            x = as_numbers(values)
            index = np.searchsorted(np.asarray(self.edges, dtype=float), x, side="right")
            index[np.isnan(x)] = k
            return index
        series = as_category_strings(values)
        categories = [c for group in self.groups for c in group]
        bin_of_category = np.array([i for i, group in enumerate(self.groups) for _ in group], dtype=np.int64)
        codes = category_codes(series, categories)
        absent = series.isna().to_numpy()
        return np.where(codes >= 0, bin_of_category[np.maximum(codes, 0)], np.where(absent, k, k + 1))

    def points_of(self, value: object) -> int:
        """One value's points in pure Python, the way a contract would look them up."""
        if _is_absent(value):
            return self.missing_points
        if self.kind == "numeric":
            return self.points[bisect.bisect_right(self.edges, float(value))]
        for group, points in zip(self.groups, self.points):
            if str(value) in group:
                return points
        return self.other_points

    def to_dict(self) -> dict:
        return {
            "feature": self.feature, "kind": self.kind, "points": list(self.points),
            "missing_points": self.missing_points, "other_points": self.other_points,
            "edges": list(self.edges), "groups": [list(g) for g in self.groups],
            "woe": list(self.woe), "counts": list(self.counts), "bads": list(self.bads),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeaturePoints:
        return cls(
            feature=data["feature"], kind=data["kind"], points=tuple(int(p) for p in data["points"]),
            missing_points=int(data["missing_points"]), other_points=int(data["other_points"]),
            edges=tuple(float(e) for e in data["edges"]), groups=tuple(tuple(g) for g in data["groups"]),
            woe=tuple(data.get("woe", ())), counts=tuple(data.get("counts", ())), bads=tuple(data.get("bads", ())),
        )


@dataclass(frozen=True)
class PointsTable:
    base_points: int
    features: tuple[FeaturePoints, ...]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.feature for f in self.features)

    def bin_indices(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([f.bin_index(X[f.feature]) for f in self.features])

    def points_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """(n_assets, n_features) integer points; one searchsorted or hash lookup per feature."""
        return np.column_stack([f.lookup[f.bin_index(X[f.feature])] for f in self.features])

    def score_from_points(self, points: np.ndarray) -> np.ndarray:
        return np.clip(self.base_points + points.sum(axis=1), MIN_SCORE, MAX_SCORE)

    def score(self, X: pd.DataFrame) -> np.ndarray:
        return self.score_from_points(self.points_matrix(X))

    def score_record(self, record: Mapping[str, object]) -> int:
        """One asset's score with Python ints only; a missing key counts as a missing value."""
        total = self.base_points + sum(f.points_of(record.get(f.feature)) for f in self.features)
        return min(max(total, MIN_SCORE), MAX_SCORE)

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for f in self.features:
            counts = [*f.counts] + [0] * (f.n_bins + 2 - len(f.counts))
            bads = [*f.bads] + [0] * (f.n_bins + 2 - len(f.bads))
            woe = [*f.woe] + [math.nan] * (f.n_bins + 2 - len(f.woe))
            for i, (label, points) in enumerate(zip(f.labels(), f.lookup.tolist())):
                rows.append({"feature": f.feature, "bin": i, "label": label, "points": points, "woe": woe[i],
                             "count": counts[i], "bad_rate": bads[i] / counts[i] if counts[i] else math.nan})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"base_points": self.base_points, "min_score": MIN_SCORE, "max_score": MAX_SCORE,
                "features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: dict) -> PointsTable:
        return cls(int(data["base_points"]), tuple(FeaturePoints.from_dict(f) for f in data["features"]))
