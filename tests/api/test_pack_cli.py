"""``absctl pack submit / status / report`` against the API (an in-process app behind the HTTP client)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import pack as pack_cli
from api.cli.main import app as absctl
from support import loans, pack_frame


@pytest.fixture
def cli(api, monkeypatch):
    def client(_url: str, api_key: str) -> TestClient:
        return TestClient(api.app, headers={"Authorization": f"Bearer {api_key}"})

    monkeypatch.setattr(pack_cli, "client", client)
    runner = CliRunner()

    def run(*args: str, member: str = "financier"):
        key = api.headers(member)["Authorization"][7:]
        return runner.invoke(absctl, ["pack", *args, "--api-key", key])

    return run


def test_submit_follows_the_pipeline_and_report_writes_every_file(cli, world, tmp_path):
    frame = pack_frame(150, seed=7001, financier="cli")
    world.seed(frame)
    path = tmp_path / "pack.csv"
    loans(frame).to_csv(path, index=False)
    result = cli("submit", str(path), "--expected-bad-rate", "0.05", "--mode", "per-level", "--poll", "0.05")
    assert result.exit_code == 0, result.output
    assert "pack 1 accepted" in result.output and "done: committed" in result.output
    again = cli("submit", str(path), "--expected-bad-rate", "0.05", "--mode", "per-level", "--no-wait")
    assert again.exit_code == 0 and "pack 1 already submitted" in again.output, "the derived key is idempotent"

    status = cli("status", "1")
    assert status.exit_code == 0 and "Committed" in status.output
    out = tmp_path / "report"
    report = cli("report", "1", "--out", str(out))
    assert report.exit_code == 0, report.output
    names = {p.name for p in out.iterdir()}
    assert names == {"report.json", "report.html", "kept.csv", "removed.csv", "excluded.csv",
                     *(f"{c}.{f}" for c in ("bad_rate_curve", "level_mix", "removals") for f in ("png", "svg"))}
    assert json.loads((out / "report.json").read_text())["filter"]["mode"] == "per-level"
    assert (out / "bad_rate_curve.png").read_bytes().startswith(b"\x89PNG")


def test_a_refused_pack_prints_its_row_problems_and_exits_1(cli, tmp_path):
    frame = loans(pack_frame(10, seed=7002, financier="cli-bad")).astype(str)
    frame.loc[3, "term_months"] = "ten"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    result = cli("submit", str(path))
    assert result.exit_code == 1
    assert "term_months" in result.output and "ten" in result.output


def test_an_investor_is_told_it_may_not_submit(cli, tmp_path):
    path = tmp_path / "p.csv"
    loans(pack_frame(3, seed=7003, financier="cli-inv")).to_csv(path, index=False)
    result = cli("submit", str(path), member="investor")
    assert result.exit_code == 1 and "403" in result.output
