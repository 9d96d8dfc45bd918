import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier

from scoring.errors import ScoringValueError
from scoring.model.evaluation import calibration_table, cross_validate, evaluate_predictions, ks_statistic


def test_perfect_and_reversed_rankings():
    y = np.array([0, 0, 0, 1, 1])
    perfect = evaluate_predictions(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9]))
    assert perfect["auc"] == 1.0 and perfect["ks"] == 1.0 and perfect["gini"] == 1.0
    assert evaluate_predictions(y, np.array([0.9, 0.8, 0.7, 0.2, 0.1]))["gini"] == -1.0


def test_ks_is_the_largest_gap_between_cumulative_distributions():
    y = np.array([0, 0, 1, 0, 1, 1])
    pd_ = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    # Threshold at 0.5: 2/3 of bads above it, 0/3 goods -> 0.667; at 0.3: 3/3 bads vs 1/3 goods -> 0.667.
    assert ks_statistic(y, pd_) == pytest.approx(2 / 3)


def test_brier_score_and_single_class_refusal():
    assert evaluate_predictions(np.array([0, 1]), np.array([0.0, 1.0]))["brier"] == 0.0
    with pytest.raises(ScoringValueError):
        evaluate_predictions(np.array([1, 1]), np.array([0.2, 0.3]))


def test_calibration_table_uses_deciles_of_predicted_pd():
    rng = np.random.default_rng(3)
    pd_ = rng.uniform(0.0, 0.4, 50_000)
    y = (rng.random(50_000) < pd_).astype(int)
    table = calibration_table(y, pd_)
    assert len(table) == 10 and table["count"].sum() == 50_000
    assert table["predicted"].is_monotonic_increasing
    np.testing.assert_allclose(table["observed"], table["predicted"], atol=0.015)


class _Memoriser(ClassifierMixin, BaseEstimator):
    """Remembers every training row: perfect in-sample, useless on rows it never saw."""

    def fit(self, X, y):
        self.knn_ = KNeighborsClassifier(n_neighbors=1).fit(X, y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return self.knn_.predict_proba(X)


def test_cross_validation_scores_only_held_out_rows():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise": rng.normal(size=2000)})
    y = (rng.random(2000) < 0.3).astype(int)
    in_sample = evaluate_predictions(y, _Memoriser().fit(X, y).predict_proba(X)[:, 1])["auc"]
    result = cross_validate(_Memoriser(), X, y, folds=5, seed=1)
    assert in_sample == 1.0
    assert abs(result.mean("auc") - 0.5) < 0.06


def test_cross_validation_is_seeded_covers_every_row_and_leaves_the_template_unfitted():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=600)})
    y = (rng.random(600) < 1 / (1 + np.exp(-2 * X["x"]))).astype(int)
    template = _Memoriser()
    first = cross_validate(template, X, y, folds=4, seed=7)
    second = cross_validate(template, X, y, folds=4, seed=7)
    assert not hasattr(template, "knn_")
    assert len(first.folds) == 4 and not np.isnan(first.out_of_fold).any()
    np.testing.assert_array_equal(first.out_of_fold, second.out_of_fold)
    assert set(first.summary()) == {"cv_auc", "cv_ks", "cv_gini", "cv_brier", "cv_auc_std"}


def test_too_few_defaults_for_the_folds_is_an_error():
    X = pd.DataFrame({"x": np.arange(20.0)})
    y = np.array([1, 1] + [0] * 18)
    with pytest.raises(ScoringValueError, match="at least 5"):
        cross_validate(_Memoriser(), X, y, folds=5)
