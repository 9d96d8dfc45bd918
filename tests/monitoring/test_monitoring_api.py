"""The monitoring API and ``absctl monitor``: who may do what, refused performance reports, a cycle
resumed after a crash, charts, and a red IoT warning on a pledged collateral as a trigger."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from monitoring_support import issue_product, make_app, simulate
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import pack as pack_cli
from api.cli.main import app as absctl
from api.monitoring.chain_port import rule_key
from api.monitoring.models import Holding, MonitoringCycle
from api.monitoring.ports import IotDatabaseWarnings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "iot"))


def test_roles_decide_who_runs_reads_and_reports(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=400, seed=51)
        product = issued.product_id
        url = f"/v1/monitoring/products/{product}/cycles"
        assert api.post(url, as_="investor", json={}).status_code == 403
        assert api.post(url, as_="financier", json={}).status_code == 403
        assert client.post(url, json={}).status_code == 401
        simulate(api, issued)
        for reader in ("investor", "exchange", "auditor", "financier", "scorer"):
            assert api.get(f"/v1/monitoring/products/{product}", as_=reader).status_code == 200, reader
        assert api.get(f"/v1/monitoring/products/{product}/notices", as_="investor").status_code == 404
        assert api.get(f"/v1/monitoring/products/{product}/notices", as_="financier").status_code == 200
        assert api.get("/v1/monitoring/products/999", as_="investor").status_code == 404
        body = {"simulate": False, "shock": {"region": "east"}}
        assert api.post(url, json=body).status_code == 422  # a shock only moves a simulated world
        assert api.post(url, json={"simulate": True, "shock": {"region": "atlantis"}}).status_code == 422


def test_a_refused_performance_report_names_row_and_field_and_changes_nothing(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=300, seed=52)
        simulate(api, issued)
        product = issued.product_id
        with Session(api.orchestrator.engine) as session:
            before = {h.loan_id: (h.status, h.balance_minor) for h in session.exec(
                select(Holding).where(Holding.product_id == product)).all()}
        loans = sorted(before)
        rows = [{"loan_id": loans[0], "status": "defaulted", "outstanding_balance_minor": 100},
                {"loan_id": "not-ours", "status": "performing", "outstanding_balance_minor": 1},
                {"loan_id": loans[1], "status": "asleep", "outstanding_balance_minor": 5},
                {"loan_id": loans[2], "status": "performing", "outstanding_balance_minor": -3}]
        url = f"/v1/monitoring/products/{product}/performance"
        refused = api.post(url, as_="financier", json=rows)
        assert api.post(url, as_="investor", json=rows[:1]).status_code == 403  # not a financier
        with Session(api.orchestrator.engine) as session:
            after = {h.loan_id: (h.status, h.balance_minor) for h in session.exec(
                select(Holding).where(Holding.product_id == product)).all()}
        accepted = api.post(url, as_="financier", json=rows[:1])
        back = api.post(url, as_="financier", json=[{**rows[0], "status": "performing"}])
    assert refused.status_code == 422
    problems = refused.json()["details"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "loan_id"), (3, "status"),
                                                          (4, "outstanding_balance_minor")]
    assert after == before
    assert accepted.status_code == 200 and accepted.json()["defaulted"] == 1
    assert back.status_code == 422 and "already defaulted" in back.json()["details"]["problems"][0]["problem"]


def test_a_cycle_that_died_half_way_resumes_without_writing_anything_twice(world, tmp_path, monkeypatch):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=300, seed=53)
        chain = api.monitoring.service.chain
        real = chain.record_cycle

        def dies(*args, **kwargs):
            raise ConnectionError("the node went away")

        monkeypatch.setattr(chain, "record_cycle", dies)
        with pytest.raises(ConnectionError):
            simulate(api, issued)
        with Session(api.orchestrator.engine) as session:
            failed = session.get(MonitoringCycle, (issued.product_id, 1))
        monkeypatch.setattr(chain, "record_cycle", real)
        resumed = simulate(api, issued)  # the world does not advance twice: its month was stored
        second = simulate(api, issued)
    assert (failed.status, failed.step) == ("failed", "published")
    assert (resumed["cycle"], resumed["status"], second["cycle"]) == (1, "done", 2)
    assert resumed["score_batch_id"] == failed.score_batch_id  # the score batch was not sent again
    monitor = api.orchestrator.platform.contract("PackMonitor")
    scores = api.orchestrator.platform.contract("ScoreRegistry")
    assert monitor.functions.cycleCount(issued.chain_pack_id).call() == 2
    assert scores.functions.batchOf(issued.chain_pack_id, 1).call() == failed.score_batch_id
    assert resumed["as_of"] < second["as_of"]


def test_absctl_monitor_runs_a_simulated_year_and_writes_charts(world, tmp_path, monkeypatch):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=300, seed=54)

        def bound(_url: str, api_key: str) -> TestClient:
            return TestClient(client.app, headers={"Authorization": f"Bearer {api_key}"})

        monkeypatch.setattr(pack_cli, "client", bound)
        monkeypatch.setenv("COLUMNS", "200")
        spec = tmp_path / "world.json"
        spec.write_text(json.dumps(issued.spec.to_dict()))
        key = api.headers("scorer")["Authorization"][7:]
        runner = CliRunner()
        ran = runner.invoke(absctl, ["monitor", "run", str(issued.product_id), "--simulate", "--world", str(spec),
                                     "--cycles", "3", "--api-key", key])
        status = runner.invoke(absctl, ["monitor", "status", str(issued.product_id), "--api-key", key])
        charts = runner.invoke(absctl, ["monitor", "charts", str(issued.product_id), "--out", str(tmp_path / "c"),
                                        "--api-key", key])
        denied = runner.invoke(absctl, ["monitor", "run", str(issued.product_id), "--simulate",
                                        "--api-key", api.headers("investor")["Authorization"][7:]])
    assert ran.exit_code == 0, ran.output
    assert [line.split()[1] for line in ran.output.splitlines() if line.strip()[:1] in "│┃" and
            line.split()[1].isdigit()] == ["1", "2", "3"]
    assert status.exit_code == 0 and "3 cycle(s)" in status.output
    assert charts.exit_code == 0, charts.output
    assert (tmp_path / "c" / "level_mix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "c" / "bad_rate.svg").read_bytes()
    assert denied.exit_code == 1 and "403" in denied.output


def test_a_red_iot_warning_on_a_pledged_collateral_triggers_the_products_measures(world, tmp_path):
    from iot_support import SITE, make_platform, register, signed

    from api.iot.service import IotService
    from api.iot.settings import IotSettings
    from chain.keys import EnvironmentKeys, MemberKeys, env_var_for
    from testbed import MEMBER_ROLES, account_for

    keys = MemberKeys(environment=EnvironmentKeys({env_var_for(n): account_for(n).key.hex() for n in MEMBER_ROLES}))
    iot = IotService(IotSettings(database_url=f"sqlite:///{tmp_path / 'iot.db'}", window_seconds=0.2,
                                 evaluation_interval_s=0.2, urgent_gap_s=0.0, sweep_interval_s=3600.0),
                     make_platform(world.consortium, keys))
    client, api = make_app(world, tmp_path, iot_database_url=f"sqlite:///{tmp_path / 'iot.db'}")
    api.monitoring.service.warnings = IotDatabaseWarnings(iot.engine)
    with client:
        issued = issue_product(api, world, n=400, seed=55)
        first = simulate(api, issued)
        with Session(api.orchestrator.engine) as session:
            pledged = next(h for h in session.exec(select(Holding).where(
                Holding.product_id == issued.product_id).order_by(Holding.loan_id)).all()
                if h.status == "live" and h.level >= 6)
        device = os.urandom(32)
        register(iot, device, loans=[{"loan_id": pledged.loan_id, "borrower_id": pledged.borrower_id,
                                      "credit_line_minor": 1_000_000, "drawn_minor": 400_000}])
        away = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}
        iot.ingestor.ingest([signed(device, 1, "location", away)], via="http")
        iot.evaluator.run_once(everything=True)  # red: the pledged excavator left its site
        second = simulate(api, issued)
        measures = api.get(f"/v1/monitoring/products/{issued.product_id}/measures", as_="investor").json()
    assert "iot_red" not in [t["rule_id"] for t in first["triggers"]]
    fired = next(t for t in measures["triggers"] if t["rule_id"] == "iot_red")
    assert fired["cycle"] == 2 and fired["loan_ids"] == [pledged.loan_id]
    assert fired["evidence"]["warnings"][0]["rule"] == "red.geofence"
    taken = {m["kind"]: m["loan_ids"] for m in measures["measures"] if m["rule_id"] == "iot_red"}
    assert taken == {"weekly_reminders": [pledged.loan_id], "replacement_instruction": [pledged.loan_id]}
    monitor = api.orchestrator.platform.contract("PackMonitor")
    assert monitor.functions.triggerFired(issued.chain_pack_id, 2, rule_key("iot_red")).call()
    assert second["cycle"] == 2
