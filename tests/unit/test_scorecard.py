"""The scorecard on the synthetic population, whose true PDs are known."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history, generate_pack
from scoring.errors import ScoringValueError
from scoring.grading import level_table_from_history
from scoring.model.batch import score_assets
from scoring.model.points import as_category_strings, as_numbers
from scoring.model.reasons import NO_REASON, point_shortfalls, reason_codes
from scoring.model.scale import ScoreScale
from scoring.model.scorecard import Scorecard

FEATURES = list(CREDIT_FEATURES)


@pytest.fixture(scope="module")
def history():
    return generate_history(30_000, seed=21)


@pytest.fixture(scope="module")
def model(history):
    return Scorecard().fit(history[FEATURES], history[TARGET].to_numpy())


@pytest.fixture(scope="module")
def pack():
    return generate_pack(100_000, seed=22, include_true_pd=True)


def test_scores_are_integers_from_1_to_100_and_higher_is_safer(model, pack):
    scores = model.predict_score(pack)
    assert scores.dtype == np.int64 and scores.min() >= 1 and scores.max() <= 100
    true_auc = roc_auc_score(pack["true_pd"] > 0.1, pack["true_pd"])
    assert roc_auc_score(pack["true_pd"] > 0.1, -scores) > true_auc - 0.05
    # The population spreads over the range rather than crowding one end.
    low, high = np.percentile(scores, [1, 99])
    assert low <= 12 and high >= 85


def test_level_bad_rates_match_the_true_pds_of_new_assets(model, history, pack):
    """The registered level table predicts the true risk of assets scored later.

    Each level's historical bad rate is a binomial proportion over its n training
    loans; the mean true PD of a fresh pack in that level is known almost exactly
    (100,000 assets). So the two should differ by at most a few binomial standard
    errors sqrt(p (1 - p) / n). With 4 standard errors per level and 10 levels
    (Bonferroni) a correct model fails with probability below 0.1%; the data are
    seeded, so the test is deterministic anyway. Levels with fewer than 100
    historical loans are skipped: their rates are too noisy to judge.
    """
    rows = level_table_from_history(model.predict_score(history), history[TARGET].to_numpy()).rows()
    levels = (model.predict_score(pack) - 1) // 10 + 1
    true_pd = pack["true_pd"].to_numpy()
    checked = 0
    for row in rows:
        in_level = levels == row["level"]
        if row["count"] < 100 or in_level.sum() < 100:
            continue
        historical = row["bad_rate_ppm"] / 1e6
        expected = true_pd[in_level].mean()
        se = np.sqrt(expected * (1 - expected) / row["count"])
        assert abs(historical - expected) <= 4 * se + 1e-4, (row, expected)
        checked += 1
    assert checked >= 8


def test_predicted_pd_is_monotone_in_the_score_and_calibrated_in_the_large(model, history, pack):
    assert np.all(np.diff(model.pd_by_score_) <= 0)
    assert model.predict_proba(pack)[:, 1].mean() == pytest.approx(pack["true_pd"].mean(), rel=0.1)
    proba = model.predict_proba(history.head(10))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_points_table_reproduces_optbinnings_own_woe(model, history):
    for feature in model.points_table_.features:
        binning = model.binnings_[feature.feature]
        values = history[feature.feature]
        x = (as_category_strings(values).to_numpy(dtype=object, na_value=None)
             if feature.kind == "categorical" else as_numbers(values))
        expected = binning.transform(x, metric="woe", metric_missing="empirical")
        np.testing.assert_allclose(np.asarray(feature.woe)[feature.bin_index(values)], expected, err_msg=feature.feature)


def test_integer_score_ranks_like_the_plain_logistic_model(model, pack):
    plain = model.reference_predict_proba(pack)[:, 1]
    scores = model.predict_score(pack)
    assert pd.Series(-scores).corr(pd.Series(plain), method="spearman") > 0.99


def test_uninformative_features_are_dropped_with_a_reason(history):
    frame = history[["delinquencies_90d_plus", "credit_utilisation"]].copy()
    frame["coin"] = np.random.default_rng(0).integers(0, 2, len(frame))
    frame["never_filled"] = np.nan
    model = Scorecard().fit(frame, history[TARGET].to_numpy())
    assert model.selected_features_ == ("delinquencies_90d_plus", "credit_utilisation")
    assert "information value" in model.dropped_features_["coin"]
    assert model.dropped_features_["never_filled"] == "no values"


def test_missing_values_and_unseen_categories_score_without_error(model, pack):
    odd = pack.head(3).copy()
    odd["industry"] = odd["industry"].astype("str")
    odd.loc[odd.index[0], "industry"] = "space mining"
    odd.loc[odd.index[1], "annual_income_minor"] = None
    odd["deposits_minor"] = pd.array([None, None, None], dtype="Int64")
    scores = model.predict_score(odd)
    table = {f.feature: f for f in model.points_table_.features}
    assert table["industry"].bin_index(odd["industry"])[0] == table["industry"].n_bins + 1
    assert scores.shape == (3,)


def test_reason_codes_name_the_costliest_attributes(model, pack):
    table = model.points_table_
    points = model.points_matrix(pack.head(2000))
    codes = reason_codes(table, points)
    shortfall = point_shortfalls(table, points)
    for i in range(0, 2000, 97):
        expected = sorted(range(shortfall.shape[1]), key=lambda j: (-shortfall[i, j], j))[:3]
        expected = [j if shortfall[i, j] > 0 else NO_REASON for j in expected]
        assert codes[i].tolist() == expected
    best = np.array([[f.best_points for f in table.features]])
    assert (reason_codes(table, best) == NO_REASON).all()


def test_batch_scoring_agrees_with_the_single_calls(model, pack):
    batch = score_assets(model, pack.head(5000))
    np.testing.assert_array_equal(batch.scores, model.predict_score(pack.head(5000)))
    np.testing.assert_array_equal(batch.levels, (batch.scores - 1) // 10 + 1)
    assert batch.reason_codes.shape == (5000, 3)
    np.testing.assert_array_equal(batch.pd_ppm, np.rint(model.predict_proba(pack.head(5000))[:, 1] * 1e6))
    assert batch.reason_features == model.selected_features_


def test_a_given_scale_is_used_as_is(history):
    scale = ScoreScale(pdo=10.0, anchor_score=50.0, anchor_odds=10.0)
    model = Scorecard(scale=scale).fit(history[FEATURES[:9]], history[TARGET].to_numpy())
    assert model.scale_ is scale


def test_fit_refuses_unusable_targets_and_predict_needs_a_fit(history):
    X = history[FEATURES].head(200)
    with pytest.raises(ScoringValueError, match="both"):
        Scorecard().fit(X, np.zeros(200))
    with pytest.raises(ScoringValueError, match="rows"):
        Scorecard().fit(X, np.zeros(199))
    with pytest.raises(ScoringValueError, match="0 .good. or 1"):
        Scorecard().fit(X, np.full(200, 2))
    with pytest.raises(NotFittedError):
        Scorecard().predict_score(X)


def test_clone_keeps_parameters_and_drops_the_fit(model):
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "points_table_")
