import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history, generate_pack
from scoring.errors import ScoringValueError
from scoring.model.challenger import Challenger
from scoring.model.scale import ScoreScale
from scoring.model.scorecard import Scorecard



FEATURES = list(CREDIT_FEATURES)


@pytest.fixture(scope="module")
def history():
    return generate_history(20_000, seed=41)


@pytest.fixture(scope="module")
def model(history):
    return Challenger().fit(history[FEATURES], history[TARGET].to_numpy())


@pytest.fixture(scope="module")
def pack():
    return generate_pack(20_000, seed=42, include_true_pd=True)


def test_ranks_new_assets_nearly_as_well_as_the_true_pd(model, pack):
    outcome = (np.random.default_rng(0).random(len(pack)) < pack["true_pd"]).astype(int)
    best_possible = roc_auc_score(outcome, pack["true_pd"])
    assert roc_auc_score(outcome, model.predict_proba(pack)[:, 1]) > best_possible - 0.03


def test_known_risk_directions_are_enforced(model, pack):
    assert model.monotonic_cst_["delinquencies_90d_plus"] == 1
    assert model.monotonic_cst_["annual_income_minor"] == -1
    sample = pack.head(300).copy()
    previous = None
    for late in range(0, 6):
        sample["delinquencies_90d_plus"] = late
        pd_now = model.predict_proba(sample)[:, 1]
        if previous is not None:
            assert np.all(pd_now >= previous - 1e-12)
        previous = pd_now


def test_directions_of_unknown_columns_come_from_the_training_data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(-2 + 1.2 * x)))).astype(int)
    frame = pd.DataFrame({"signal": x, "noise": rng.normal(size=4000)})
    fitted = Challenger(max_iter=20).fit(frame, y)
    assert fitted.monotonic_cst_ == {"signal": 1, "noise": 0}
    assert Challenger(monotonic="schema", max_iter=20).fit(frame, y).monotonic_cst_ == {"signal": 0, "noise": 0}
    assert Challenger(monotonic={"noise": -1}, max_iter=20).fit(frame, y).monotonic_cst_ == {"signal": 0, "noise": -1}
    with pytest.raises(ScoringValueError):
        Challenger(monotonic="sometimes").fit(frame, y)


def test_scores_use_the_shared_log_odds_scale(history, pack):
    scale = ScoreScale(pdo=9.0, anchor_score=50.0, anchor_odds=12.0)
    fitted = Challenger(scale=scale, max_iter=50).fit(history[FEATURES], history[TARGET].to_numpy())
    pd_ = fitted.predict_proba(pack)[:, 1]
    expected = scale.score(np.log((1 - pd_) / pd_))
    np.testing.assert_array_equal(fitted.predict_score(pack), expected)


def test_scores_compare_with_the_scorecards_on_a_shared_scale(history, pack):
    scorecard = Scorecard().fit(history[FEATURES], history[TARGET].to_numpy())
    challenger = Challenger(scale=scorecard.scale_).fit(history[FEATURES], history[TARGET].to_numpy())
    both = pd.DataFrame({"a": scorecard.predict_score(pack), "b": challenger.predict_score(pack)})
    assert abs(both["a"].mean() - both["b"].mean()) < 5
    assert both.corr(method="spearman").iloc[0, 1] > 0.85


def test_unseen_and_absent_categories_count_as_missing(model, pack):
    odd = pack.head(2).copy()
    odd["region"] = pd.Series(["atlantis", None], index=odd.index, dtype="object")
    assert model.predict_proba(odd).shape == (2, 2)


def test_predict_needs_a_fit_and_the_models_columns(model, pack):
    with pytest.raises(NotFittedError):
        Challenger().predict_score(pack)
    with pytest.raises(ScoringValueError, match="lacks"):
        model.predict_score(pack.drop(columns=["region"]))


def test_an_empty_optional_column_is_ignored_not_fatal(history):
    frame = history[["delinquencies_90d_plus", "credit_utilisation"]].copy()
    frame["energy_intensity"] = np.nan
    fitted = Challenger(max_iter=20).fit(frame, history[TARGET].to_numpy())
    assert fitted.ignored_features_ == {"energy_intensity": "no values"}
    assert fitted.predict_score(frame.drop(columns=["energy_intensity"]).head(5)).shape == (5,)
