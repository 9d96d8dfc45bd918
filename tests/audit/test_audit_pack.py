"""``audit pack``: the bundle the auditor gets from the API verifies against the chain; a forged
bundle fails and names the asset (a changed score; an asset moved from removed to kept); an
illegal state history is detected; exit codes through ``absctl``."""

from __future__ import annotations

import json

import pytest
from audit_support import AuditWorld
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.audit.bundle import read_pack_bundle
from api.audit.pack_audit import audit_pack
from api.cli import audit as audit_cli
from api.cli.main import app
from chain.audit.transitions import StateChange, check_history


@pytest.fixture(scope="module")
def bundles(audit_world: AuditWorld) -> dict[int, list[str]]:
    """Each pack's bundle as the orchestrator API serves it to the auditor."""
    application = audit_world.orchestrator_app()
    from support import api_key

    with TestClient(application) as client:
        key = api_key(application.state.orchestrator, audit_world.consortium, "auditor")
        answer = {}
        for pack_id in (audit_world.small_pack, audit_world.big_pack):
            response = client.get(f"/v1/audit/packs/{pack_id}/bundle", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200, response.text
            answer[pack_id] = response.text.splitlines()
    return answer


def forged(lines: list[str], loan_id: str, **changes) -> list[str]:
    out = []
    for line in lines:
        item = json.loads(line)
        if item.get("kind") == "asset" and item["loan_id"] == loan_id:
            item.update(changes)
        out.append(json.dumps(item))
    return out


def asset_of(lines: list[str], outcome: str) -> dict:
    return next(item for item in map(json.loads, lines) if item.get("outcome") == outcome)


@pytest.mark.parametrize("which", ["small", "big"])
def test_the_published_bundle_verifies_against_the_chain(audit_world: AuditWorld, bundles, which: str):
    pack_id = audit_world.small_pack if which == "small" else audit_world.big_pack
    bundle = read_pack_bundle(bundles[pack_id])
    report = audit_pack(audit_world.w3, audit_world.manifest, pack_id, bundle)
    assert report.findings == [], report.text()
    kinds = {row.outcome for row in bundle.rows}
    assert kinds == {"kept", "removed", "excluded"}
    assert all(row.credit and row.credit.get("salt") for row in bundle.rows if row.outcome != "excluded")
    assert report.checked["state changes"] >= 6


@pytest.mark.parametrize("which", ["small", "big"])
def test_a_changed_score_fails_and_names_the_asset(audit_world: AuditWorld, bundles, which: str):
    pack_id = audit_world.small_pack if which == "small" else audit_world.big_pack
    asset = asset_of(bundles[pack_id], "kept")
    score = asset["score"] + 1 if asset["score"] % 10 else asset["score"] - 1  # same level: only the score lies
    report = audit_pack(audit_world.w3, audit_world.manifest, pack_id,
                        read_pack_bundle(forged(bundles[pack_id], asset["loan_id"], score=score)))
    named = {f.subject for f in report.findings if f.subject.startswith("asset ")}
    assert named == {f"asset {asset['loan_id']}"}, report.text()
    assert {"score", "kept"} <= {f.field for f in report.findings if f.subject == f"asset {asset['loan_id']}"}


def test_an_asset_moved_from_removed_to_kept_is_named(audit_world: AuditWorld, bundles):
    pack_id = audit_world.big_pack
    asset = asset_of(bundles[pack_id], "removed")
    report = audit_pack(audit_world.w3, audit_world.manifest, pack_id,
                        read_pack_bundle(forged(bundles[pack_id], asset["loan_id"], outcome="kept")))
    named = {f.subject for f in report.findings if f.subject.startswith("asset ")}
    assert named == {f"asset {asset['loan_id']}"}, report.text()
    checks = {(f.check, f.field) for f in report.findings if f.subject == f"asset {asset['loan_id']}"}
    assert ("proof", "kept") in checks and ("filter", "outcome") in checks
    assert any(f.field == "kept_count" for f in report.findings)


def test_a_forged_loan_record_and_credit_proof_are_named(audit_world: AuditWorld, bundles):
    pack_id = audit_world.small_pack
    asset = asset_of(bundles[pack_id], "kept")
    record = {**asset["record"], "outstanding_balance_minor": asset["record"]["outstanding_balance_minor"] + 1}
    credit = {**asset["credit"], "salt": "0x" + "11" * 32}
    report = audit_pack(audit_world.w3, audit_world.manifest, pack_id,
                        read_pack_bundle(forged(bundles[pack_id], asset["loan_id"], record=record, credit=credit)))
    fields = {(f.check, f.field) for f in report.findings if f.subject == f"asset {asset['loan_id']}"}
    assert ("record", "record_hash") in fields and ("credit", "salted_hash") in fields


def test_an_illegal_state_history_is_detected():
    legal = [StateChange(i, i + 1, 10 + i, f"0x{i}") for i in range(6)]
    assert check_history(1, legal, final_state=6) == []
    skipped = [*legal[:2], StateChange(2, 4, 20, "0xskip")]  # CreditChecked -> Graded: no score on chain
    found = check_history(1, skipped)
    assert [(f.field, f.actual) for f in found] == [("transition", "CreditChecked -> Graded")]
    backwards = [*legal, StateChange(6, 5, 30, "0xback")]
    assert {f.actual for f in check_history(1, backwards)} == {"Committed -> Filtered"}
    assert [f.field for f in check_history(1, legal[:3], final_state=6)] == ["state"]


def test_the_chains_own_history_of_every_pack_is_legal(audit_world: AuditWorld):
    report = audit_pack(audit_world.w3, audit_world.manifest, audit_world.small_pack)
    assert report.findings == [] and report.checked["state changes"] == 7  # Issued too


def test_absctl_audit_pack_exit_codes_and_json(audit_world: AuditWorld, bundles, tmp_path, monkeypatch):
    audit_world.manifest.save(tmp_path / "deployment.json")
    monkeypatch.setattr(audit_cli, "connect_chain", lambda _url: audit_world.w3)
    pack_id = audit_world.big_pack
    (tmp_path / "good.jsonl").write_text("\n".join(bundles[pack_id]))
    asset = asset_of(bundles[pack_id], "removed")
    (tmp_path / "forged.jsonl").write_text("\n".join(forged(bundles[pack_id], asset["loan_id"], outcome="kept")))
    base = ["audit", "pack", str(pack_id), "--manifest", str(tmp_path / "deployment.json")]
    good = CliRunner().invoke(app, [*base, "--bundle", str(tmp_path / "good.jsonl")])
    assert good.exit_code == 0, good.output
    bad = CliRunner().invoke(app, [*base, "--bundle", str(tmp_path / "forged.jsonl"), "--json", "-"])
    assert bad.exit_code == 1, bad.output
    report = json.loads(bad.stdout)
    assert report["verdict"] == "findings"
    assert f"asset {asset['loan_id']}" in {f["subject"] for f in report["findings"]}
