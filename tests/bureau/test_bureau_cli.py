"""``absctl bureau``: api-key, ingest, publish-synthetic (in-process, on the embedded chain) and
serve (a real uvicorn process on a free 127.0.0.1 port, stopped by its PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from api.bureau.keys import authenticate
from api.cli import bureau as bureau_cli
from api.cli.main import app
from api.services.credit_check import InProcessBureauClient, check_credit
from chain.node import free_port
from bureau_support import TODAY, credit_frame
from scoring.data.synthetic import generate_pack

runner = CliRunner()


@pytest.fixture
def cli(service, settings, monkeypatch):
    """absctl with the test's bureau (embedded chain, its own SQLite database)."""
    monkeypatch.setattr(bureau_cli, "bureau_service", lambda: service)
    monkeypatch.setenv("ABS_BUREAU_DATABASE_URL", settings.database_url)
    return lambda *args: runner.invoke(app, ["bureau", *args])


def test_api_key_prints_a_key_that_the_bureau_accepts(cli, service):
    result = cli("api-key", "bureau-ops", "--write")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert authenticate(service.engine, key, "write").name == "bureau-ops"

    assert cli("api-key", "bureau-ops", "--revoke").exit_code == 0
    with pytest.raises(PermissionError):
        authenticate(service.engine, key, "read")


def test_ingest_commits_a_csv_and_refuses_a_bad_one_by_line(cli, registry, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    credit_frame(30, seed=60).to_csv(good, index=False, date_format="%Y-%m-%d")
    broken = credit_frame(3, seed=61)
    broken.loc[1, "age_years"] = 7
    broken.to_csv(bad, index=False, date_format="%Y-%m-%d")

    result = cli("ingest", str(good))

    assert result.exit_code == 0, result.output
    assert "committed batch 1: 30 records" in result.stdout
    assert registry.functions.batchCount().call() == 1

    refused = cli("ingest", str(bad))
    assert refused.exit_code == 1
    assert "line 3, age_years: 7 is below 18" in refused.stderr
    assert registry.functions.batchCount().call() == 1


def test_publish_synthetic_covers_every_borrower_of_the_same_pack(cli, service, registry):
    result = cli("publish-synthetic", "--n", "50", "--seed", "7", "--financier", "acme")
    assert result.exit_code == 0, result.output

    pack = generate_pack(50, 7, financier="acme", as_of=TODAY)
    verdicts = check_credit(InProcessBureauClient(service), registry, list(pack["borrower_id"]), today=TODAY,
                            max_age_days=90)
    assert all(v.eligible and v.reason is None for v in verdicts)
    assert [v.record["delinquencies_30d"] for v in verdicts] == pack["delinquencies_30d"].tolist()


def test_serve_answers_on_localhost_until_stopped(tmp_path):
    port = free_port()
    env = {**os.environ, "ABS_BUREAU_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
           "ABS_CHAIN_URL": "embedded", "ABS_MANIFEST_PATH": str(tmp_path / "none.json")}
    process = subprocess.Popen([sys.executable, "-m", "api.cli.main", "bureau", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health == {"status": "ok", "pending_batches": 0}, process.stderr.read() if process.poll() else ""
        assert httpx.get(f"http://127.0.0.1:{port}/v1/batches").status_code == 401
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode is not None
