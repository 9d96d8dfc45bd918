"""The challenger: gradient-boosted trees held to the risk directions we know.

A `HistGradientBoostingClassifier` finds interactions the additive scorecard cannot
(utilisation x delinquency, say), but an unconstrained one may also learn that more
delinquencies are safer somewhere in the noise. So every numeric feature whose
direction is known is constrained monotone:

- from the schema (`risk_direction` of the field the column maps to), else
- when `monotonic="auto"`, from the training data itself: the sign of the Spearman
  rank correlation with default when it is clear (|z| >= 3), computed inside `fit`,
  so cross-validation never sees held-out rows.

Threads: boosting small data gains nothing from OpenMP threads and, on a busy
machine (two pytest workers on two cores, a loaded API host), loses up to 20x to
threads spinning at barriers. So `n_threads=None` uses one thread below
`_PARALLEL_FROM_ROWS` rows and all cores above; an integer fixes the count.

Categories are passed to the trees as native categorical features (up to 254 per
feature; rarer ones count as missing). Scores use the same log-odds scaling as the
scorecard (`ScoreScale`), so a challenger score of 70 means the same odds as a
scorecard score of 70 when both share a scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from scoring.data.schema import ASSET
from scoring.errors import ScoringValueError
from scoring.model.points import as_category_strings, as_numbers, category_codes
from scoring.model.scale import ScoreScale
from scoring.model.scorecard import categorical_columns, check_features, check_training_data

_MAX_CATEGORIES = 254  # HistGradientBoosting's limit is 255 bins, one kept for missing
_CLEAR_CORRELATION_Z = 3.0
_PARALLEL_FROM_ROWS = 50_000


class Challenger(ClassifierMixin, BaseEstimator):
    """Monotone-constrained gradient boosting scoring on the shared 1-100 scale."""

    def __init__(self, categorical_features: Sequence[str] | None = None,
                 monotonic: str | Mapping[str, int] = "auto", learning_rate: float = 0.05, max_iter: int = 150,
                 max_leaf_nodes: int = 8, min_samples_leaf: int = 40, l2_regularization: float = 1.0,
                 scale: ScoreScale | None = None, random_state: int = 0, n_threads: int | None = None) -> None:
        self.categorical_features = categorical_features
        self.monotonic = monotonic
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.scale = scale
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Challenger:
        X, y = check_training_data(X, y)
        if not (self.monotonic in ("auto", "schema") or isinstance(self.monotonic, Mapping)):
            raise ScoringValueError("monotonic must be 'auto', 'schema' or a mapping of feature -> -1/0/+1")
        categorical = categorical_columns(X, self.categorical_features)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        # A column with no values at all (an optional field nobody filled) cannot split a tree.
        self.ignored_features_ = {name: "no values" for name in X.columns if X[name].isna().all()}
        self.features_ = [name for name in X.columns if name not in self.ignored_features_]
        if not self.features_:
            raise ScoringValueError("every feature column is empty")
        self.categories_: dict[str, list[str]] = {}
        for name in self.features_:
            if name in categorical:
                counts = as_category_strings(X[name]).value_counts()
                self.categories_[name] = sorted(counts.index[:_MAX_CATEGORIES].tolist())
        matrix = self._matrix(X)
        self.monotonic_cst_ = {name: self._direction(name, matrix[:, i], y)
                               for i, name in enumerate(self.features_) if name not in categorical}
        model = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            categorical_features=[name in categorical for name in self.features_],
            monotonic_cst=[self.monotonic_cst_.get(name, 0) for name in self.features_],
            early_stopping=False, random_state=self.random_state,
        )
        with self._threads(len(y)):
            self.model_ = model.fit(matrix, y)
            log_odds_good = -self.model_.decision_function(matrix)
        self.scale_ = self.scale if self.scale is not None else ScoreScale.spanning(log_odds_good)
        return self

    def _threads(self, n_rows: int) -> threadpool_limits:
        if self.n_threads is not None:
            count = self.n_threads
        else:
            count = 1 if n_rows < _PARALLEL_FROM_ROWS else None
        return threadpool_limits(limits=count, user_api="openmp")

    def _direction(self, name: str, values: np.ndarray, y: np.ndarray) -> int:
        if isinstance(self.monotonic, Mapping):
            return int(self.monotonic.get(name, 0))
        if name in ASSET and ASSET.field(name).risk_direction:
            return ASSET.field(name).risk_direction
        if self.monotonic == "schema":
            return 0
        present = ~np.isnan(values)
        if present.sum() < 30 or np.unique(values[present]).size < 2:
            return 0
        rho = spearmanr(values[present], y[present]).statistic
        z = rho * np.sqrt(present.sum() - 1)
        return int(np.sign(rho)) if abs(z) >= _CLEAR_CORRELATION_Z else 0

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Floats for the trees: numbers as they are, categories as codes of the training categories."""
        columns = []
        for name in self.features_:
            if name in self.categories_:
                codes = category_codes(as_category_strings(X[name]), self.categories_[name])
                columns.append(np.where(codes >= 0, codes, np.nan))
            else:
                columns.append(as_numbers(X[name]))
        return np.column_stack(columns)

    def log_odds_good(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = check_features(X, self.features_)
        with self._threads(len(X)):
            return -self.model_.decision_function(self._matrix(X))

    def predict_score(self, X: pd.DataFrame) -> np.ndarray:
        """Integer scores 1-100, higher is safer."""
        log_odds_good = self.log_odds_good(X)  # checks the fit first
        return self.scale_.score(log_odds_good)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = check_features(X, self.features_)
        with self._threads(len(X)):
            return self.model_.predict_proba(self._matrix(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)
