"""``audit chain``, ``audit product`` and ``audit iot``: state rebuilt from the events alone
equals what the platform's APIs report; a forged IoT event is named by its signature and hash."""

from __future__ import annotations

import json

from audit_support import AuditWorld
from fastapi.testclient import TestClient
from support import api_key
from typer.testing import CliRunner

from api.audit.chain_audit import audit_chain
from api.audit.export_iot import export_iot_lines
from api.audit.iot_audit import audit_iot, read_iot_bundle
from api.audit.product_audit import audit_product
from api.cli import audit as audit_cli
from api.cli.main import app
from chain.audit import handlers
from chain.audit.replay import rebuild_state


def test_the_rebuilt_state_is_what_the_apis_report(audit_world: AuditWorld):
    report, state = audit_chain(audit_world.w3, audit_world.manifest, page_blocks=7)  # small pages: many queries
    assert report.findings == [], report.text()
    application = audit_world.orchestrator_app()
    with TestClient(application) as client:
        headers = {"Authorization": f"Bearer {api_key(application.state.orchestrator, audit_world.consortium, 'financier')}"}
        for view in client.get("/v1/packs", headers=headers).json()["packs"]:
            pack = state.packs[view["chain"]["pack_id"]]
            assert (pack.assets_root, pack.model_id, pack.score_batch_id, pack.asset_count) == (
                view["chain"]["assets_root"], view["chain"]["model_id"], view["chain"]["score_batch_id"],
                view["asset_count"])
            assert pack.kept_root == view["filter"]["kept_root"]
    (listed,) = audit_world.exchange.client("investor").products()
    product = audit_world.exchange.client("investor").product(listed["product_id"])
    rebuilt = state.products[product["product_id"]]
    assert (rebuilt.pack_id, rebuilt.state.lower()) == (product["pack_id"], product["state"])
    assert rebuilt.tokens == [t["token"] for t in product["tranches"]]
    assert [state.tokens[t["token"]].total_supply for t in product["tranches"]] == [
        t["units_issued"] for t in product["tranches"]]
    last = max(rebuilt.distributions)
    assert rebuilt.distributions[last]["tranche_outstanding"] == [t["outstanding"] for t in product["tranches"]]
    holders = audit_world.exchange.client("exchange").holders(product["product_id"])
    for tranche, token in zip(holders, rebuilt.tokens):
        assert {h["address"]: h["units"] for h in tranche["holders"]} == state.tokens[token].balances
    assert state.packs[audit_world.small_pack].state_name == "Issued"
    for member in audit_world.manifest.members.values():
        assert state.members[member.address].roles == set(member.roles)
    assert len(state.freezes) == 1 and len(state.windows) == len(audit_world.windows)


def test_a_later_capability_joins_the_replay_with_a_handler_table(audit_world: AuditWorld, monkeypatch):
    monkeypatch.setitem(handlers.HANDLERS, "CreditRegistry", {})  # as if no handler had been written yet
    state = rebuild_state(audit_world.w3, audit_world.manifest)
    assert set(state.unhandled) == {"CreditRegistry.CreditBatchCommitted"} and not state.credit_batches
    handlers.register("CreditRegistry", {"CreditBatchCommitted": lambda s, r: s.extra.setdefault("batches", []).append(
        r.args["batchId"])})
    state = rebuild_state(audit_world.w3, audit_world.manifest)
    assert state.unhandled == {} and state.extra["batches"]


def test_the_product_audits_clean_and_an_unknown_product_is_a_finding(audit_world: AuditWorld):
    assert audit_product(audit_world.w3, audit_world.manifest, audit_world.product_id).findings == []
    assert audit_product(audit_world.w3, audit_world.manifest, 99).findings[0].field == "exists"


def test_iot_windows_verify_and_a_forged_event_is_named(audit_world: AuditWorld, tmp_path, monkeypatch):
    iot_url = audit_world.urls()[2]
    lines = list(export_iot_lines(iot_url, audit_world.windows))
    assert audit_iot(audit_world.w3, audit_world.manifest, audit_world.windows,
                     read_iot_bundle(lines)).findings == []
    items = [json.loads(line) for line in lines]
    target = next(i for i in items if i.get("kind") == "event")
    target["payload"] = {**target["payload"], "lat_e7": target["payload"]["lat_e7"] + 1}
    (tmp_path / "iot.jsonl").write_text("\n".join(json.dumps(i) for i in items))
    audit_world.manifest.save(tmp_path / "deployment.json")
    monkeypatch.setattr(audit_cli, "connect_chain", lambda _url: audit_world.w3)
    args = ["audit", "iot", "--manifest", str(tmp_path / "deployment.json"), "--bundle", str(tmp_path / "iot.jsonl"),
            "--json", "-"]
    for window in audit_world.windows:
        args += ["--window", str(window)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {(f["subject"], f["field"]) for f in findings} >= {(f"event {target['device']}#{target['seq']}",
                                                               "event_hash")}
    assert all(f["subject"].startswith(f"event {target['device']}#{target['seq']}") or f["field"] == "root"
               for f in findings)
    clean = CliRunner().invoke(app, ["audit", "product", str(audit_world.product_id), "--manifest",
                                     str(tmp_path / "deployment.json")])
    assert clean.exit_code == 0, clean.output


def test_every_event_of_every_deployed_contract_has_a_handler(audit_world: AuditWorld):
    """A contract that gains an event without a replay handler fails here (PackMonitor included)."""
    from chain.contracts import platform_artifacts

    artifacts = platform_artifacts()
    for name in audit_world.manifest.contracts:
        events = {e["name"] for e in artifacts[name].abi if e.get("type") == "event"}
        assert events <= set(handlers.HANDLERS.get(name, {})), f"{name}: {events - set(handlers.HANDLERS[name])}"


def test_monitoring_is_a_legal_next_state_in_the_replay(audit_world: AuditWorld, chain_snapshot):
    c = audit_world.consortium
    assert "PackMonitor" in audit_world.manifest.contracts
    c.sender("scorer").transact(c.contract("AssetPack").functions.startMonitoring(audit_world.small_pack))
    report, state = audit_chain(audit_world.w3, audit_world.manifest)
    assert report.findings == [], report.text()
    assert state.packs[audit_world.small_pack].state_name == "Monitoring"
