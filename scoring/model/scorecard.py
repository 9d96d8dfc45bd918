"""The champion model: a monotonic-binning WoE logistic scorecard with integer points.

fit:
1. each feature is binned by optbinning's `OptimalBinning` (numeric bins with a
   monotonic event rate, `auto_asc_desc`; categories grouped by event rate); the
   weight of evidence (WoE, positive = safer) of each bin is optbinning's own;
2. features whose information value is below `min_iv` carry no usable signal
   (seed 001 selects features by IV) and are dropped;
3. a logistic regression on the WoE columns; while some coefficient comes out with
   the wrong sign (more evidence of safety raising risk, a collinearity artefact),
   the most wrong feature is dropped and the regression refitted, so points always
   rise with WoE;
4. the log-odds are scaled (`ScoreScale`, shared 1-100 scale) and each bin's share
   rounded to whole points; each feature's points are shifted so its worst bin
   scores 0, the shift moving into the base points;
5. `predict_proba` maps the integer score back to a PD with a one-variable logistic
   fit of the training outcomes on the integer score: monotone in the score and
   calibrated after the rounding and clipping.

Scoring uses only `points_table_` (searchsorted or a hash lookup per feature), never
optbinning, so a million assets score in well under a second and a scorecard loaded
from its JSON artifact scores exactly as the one that was fitted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from scoring.errors import ScoringValueError
from scoring.model.points import FeaturePoints, PointsTable, as_category_strings, as_numbers
from scoring.model.scale import MAX_SCORE, MIN_SCORE, ScoreScale

# cvxpy (pulled in by optbinning) logs at import that an optional solver it probes (HiGHS) fails to
# load; optbinning's binning does not use that solver, so only that message is silenced.
logging.getLogger("__cvxpy__").addFilter(lambda record: "importing solver" not in record.getMessage())
from optbinning import OptimalBinning  # noqa: E402


def check_training_data(X: object, y: object) -> tuple[pd.DataFrame, np.ndarray]:
    """A feature frame and 0/1 outcomes with both classes, or a clear error."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X)).rename(columns=lambda i: f"x{i}")
    target = np.asarray(y)
    if frame.shape[0] != target.shape[0]:
        raise ScoringValueError(f"X has {frame.shape[0]} rows but y has {target.shape[0]}")
    if frame.shape[1] == 0:
        raise ScoringValueError("X has no feature columns")
    if not np.isin(target, (0, 1)).all():
        raise ScoringValueError("y must hold 0 (good) or 1 (defaulted) only")
    if np.unique(target).size < 2:
        raise ScoringValueError("y must contain both defaulted and good loans")
    return frame, target.astype(np.int8)


def categorical_columns(X: pd.DataFrame, declared: Sequence[str] | None) -> set[str]:
    if declared is not None:
        missing = set(declared) - set(X.columns)
        if missing:
            raise ScoringValueError(f"categorical features not in X: {sorted(missing)}")
        return set(declared)
    return {c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])}


def check_features(X: object, feature_names: Sequence[str]) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X)).rename(columns=lambda i: f"x{i}")
    missing = [name for name in feature_names if name not in X.columns]
    if missing:
        raise ScoringValueError(f"X lacks the model's features {missing}")
    return X


class Scorecard(ClassifierMixin, BaseEstimator):
    """Monotonic WoE logistic scorecard scoring 1-100 (higher is safer) in integer points."""

    def __init__(self, categorical_features: Sequence[str] | None = None, min_bin_size: float = 0.05,
                 max_n_prebins: int = 20, monotonic_trend: str = "auto_asc_desc", min_iv: float = 0.02,
                 C: float = 1.0, scale: ScoreScale | None = None) -> None:
        self.categorical_features = categorical_features
        self.min_bin_size = min_bin_size
        self.max_n_prebins = max_n_prebins
        self.monotonic_trend = monotonic_trend
        self.min_iv = min_iv
        self.C = C
        self.scale = scale

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Scorecard:
        X, y = check_training_data(X, y)
        categorical = categorical_columns(X, self.categorical_features)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        self.binnings_: dict[str, OptimalBinning] = {}
        self.information_value_: dict[str, float] = {}
        self.dropped_features_: dict[str, str] = {}
        bins: dict[str, FeaturePoints] = {}
        for name in X.columns:
            fitted = self._bin_feature(name, X[name], y, name in categorical)
            if fitted is None:
                continue
            binning, stub = fitted
            iv = _information_value(stub)
            self.information_value_[name] = iv
            if iv < self.min_iv:
                self.dropped_features_[name] = f"information value {iv:.4f} < {self.min_iv}"
                continue
            self.binnings_[name] = binning
            bins[name] = stub
        if not bins:
            raise ScoringValueError("no feature carries enough information to build a scorecard")

        woe = {name: np.asarray(stub.woe)[stub.bin_index(X[name])] for name, stub in bins.items()}
        selected = list(bins)
        while True:
            logistic = LogisticRegression(C=self.C, max_iter=1000)
            logistic.fit(np.column_stack([woe[n] for n in selected]), y)
            coefficients = logistic.coef_[0]
            if np.all(coefficients < 0):
                break
            # Drop the most wrong-signed feature only: its removal may set the others right.
            worst = selected[int(np.argmax(coefficients))]
            self.dropped_features_[worst] = "coefficient has the wrong sign next to the other features"
            self.binnings_.pop(worst)
            selected.remove(worst)
            if not selected:
                raise ScoringValueError("no feature keeps a coherent sign in the regression")
        self.logistic_ = logistic
        self.selected_features_ = tuple(selected)

        log_odds_good = -logistic.decision_function(np.column_stack([woe[n] for n in selected]))
        self.scale_ = self.scale if self.scale is not None else ScoreScale.spanning(log_odds_good)
        self.points_table_ = _to_points(self.scale_, logistic, [bins[n] for n in selected])
        self.pd_by_score_ = _fit_score_to_pd(self.points_table_.score(X), y)
        return self

    def _bin_feature(self, name: str, values: pd.Series, y: np.ndarray,
                     is_categorical: bool) -> tuple[OptimalBinning, FeaturePoints] | None:
        if values.isna().all():
            self.dropped_features_[name] = "no values"
            return None
        if is_categorical:
            x = as_category_strings(values).to_numpy(dtype=object, na_value=None)
            binning = OptimalBinning(name=name, dtype="categorical", min_bin_size=self.min_bin_size,
                                     max_n_prebins=self.max_n_prebins)
        else:
            x = as_numbers(values)
            binning = OptimalBinning(name=name, dtype="numerical", monotonic_trend=self.monotonic_trend,
                                     min_bin_size=self.min_bin_size, max_n_prebins=self.max_n_prebins)
        try:
            binning.fit(x, y)
        except (ValueError, TypeError) as exc:
            self.dropped_features_[name] = f"binning failed: {exc}"
            return None
        if binning.status not in ("OPTIMAL", "FEASIBLE"):
            self.dropped_features_[name] = f"binning status {binning.status}"
            return None
        if is_categorical:
            groups = tuple(tuple(str(c) for c in group) for group in binning.splits)
            stub = FeaturePoints(name, "categorical", (0,) * len(groups), 0, 0, groups=groups)
            probes = np.array([g[0] for g in groups] + [None, "\x00unseen"], dtype=object)
        else:
            edges = tuple(float(e) for e in binning.splits)
            stub = FeaturePoints(name, "numeric", (0,) * (len(edges) + 1), 0, 0, edges=edges)
            probes = np.array([*_bin_representatives(edges), np.nan, np.nan])
        # WoE exactly as optbinning's transform gives it, looked up by our own bin index.
        woe = binning.transform(probes, metric="woe", metric_missing="empirical")
        if not np.all(np.isfinite(woe)):
            self.dropped_features_[name] = "a bin has an infinite weight of evidence"
            return None
        index = stub.bin_index(values)
        counts = np.bincount(index, minlength=stub.n_bins + 2)
        bads = np.bincount(index, weights=y, minlength=stub.n_bins + 2).astype(np.int64)
        stub = FeaturePoints(name, stub.kind, stub.points, 0, 0, stub.edges, stub.groups,
                             tuple(float(w) for w in woe), tuple(int(c) for c in counts), tuple(int(b) for b in bads))
        return binning, stub

    def predict_score(self, X: pd.DataFrame) -> np.ndarray:
        """Integer scores 1-100, higher is safer."""
        check_is_fitted(self, "points_table_")
        X = check_features(X, self.points_table_.feature_names)
        return self.points_table_.score(X)

    def points_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Each asset's integer points per feature of `points_table_` (for reason codes)."""
        check_is_fitted(self, "points_table_")
        return self.points_table_.points_matrix(check_features(X, self.points_table_.feature_names))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        pd_ = self.pd_from_score(self.predict_score(X))
        return np.column_stack([1.0 - pd_, pd_])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)

    def pd_from_score(self, score: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "pd_by_score_")
        return self.pd_by_score_[np.asarray(score, dtype=np.int64) - MIN_SCORE]

    def reference_predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The same model the plain way: optbinning's WoE transform then the logistic regression.

        Slower and uncalibrated to the integer score; the benchmark's peer, and a check
        that the points table reproduces the fitted binning.
        """
        check_is_fitted(self, "logistic_")
        X = check_features(X, self.selected_features_)
        columns = []
        for name in self.selected_features_:
            binning = self.binnings_[name]
            values = X[name]
            x = (as_category_strings(values).to_numpy(dtype=object, na_value=None)
                 if binning.dtype == "categorical" else as_numbers(values))
            columns.append(binning.transform(x, metric="woe", metric_missing="empirical"))
        return self.logistic_.predict_proba(np.column_stack(columns))


def _bin_representatives(edges: tuple[float, ...]) -> list[float]:
    if not edges:
        return [0.0]
    inner = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    return [edges[0] - 1.0, *inner, edges[-1] + 1.0]


def _information_value(stub: FeaturePoints) -> float:
    counts, bads, woe = np.asarray(stub.counts, float), np.asarray(stub.bads, float), np.asarray(stub.woe)
    goods = counts - bads
    return float(np.sum((goods / goods.sum() - bads / bads.sum()) * woe))


def _to_points(scale: ScoreScale, logistic: LogisticRegression, stubs: list[FeaturePoints]) -> PointsTable:
    features = []
    shift = 0
    for stub, coef in zip(stubs, logistic.coef_[0]):
        raw = np.rint(-scale.factor * coef * np.asarray(stub.woe)).astype(np.int64)
        worst = int(raw[: stub.n_bins + 1].min())  # regular bins and missing; "other" may sit below
        raw -= worst
        shift += worst
        features.append(FeaturePoints(stub.feature, stub.kind, tuple(int(p) for p in raw[: stub.n_bins]),
                                      int(raw[stub.n_bins]), int(raw[stub.n_bins + 1]), stub.edges, stub.groups,
                                      stub.woe, stub.counts, stub.bads))
    base = int(np.rint(scale.offset - scale.factor * logistic.intercept_[0])) + shift
    return PointsTable(base, tuple(features))


def _fit_score_to_pd(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    calibration = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1).astype(float), y)
    if calibration.coef_[0, 0] >= 0:
        raise ScoringValueError("the fitted scores do not rank defaults: higher scores are not safer")
    grid = np.arange(MIN_SCORE, MAX_SCORE + 1, dtype=float).reshape(-1, 1)
    return calibration.predict_proba(grid)[:, 1]
