"""The auditor's endpoint serves bundles to the AUDITOR only; attestations are signed (EIP-712),
written on chain from the AUDITOR key and listed to investors, the exchange and auditors."""

from __future__ import annotations

import json

import pytest
from audit_support import AuditWorld
from fastapi.testclient import TestClient
from support import api_key
from typer.testing import CliRunner

from api.cli import audit as audit_cli
from api.cli.main import app
from chain.audit.attestation import Statement, attest
from chain.errors import ContractCustomError


@pytest.fixture
def client(audit_world: AuditWorld):
    application = audit_world.orchestrator_app()
    with TestClient(application) as test_client:
        keys = {member: api_key(application.state.orchestrator, audit_world.consortium, member)
                for member in ("auditor", "financier", "investor", "exchange", "scorer")}
        test_client.headers_for = lambda member: {"Authorization": f"Bearer {keys[member]}"}
        yield test_client


@pytest.mark.parametrize("member", ["financier", "investor", "exchange", "scorer"])
def test_only_the_auditor_gets_bundles(audit_world: AuditWorld, client, member: str):
    path = f"/v1/audit/packs/{audit_world.small_pack}/bundle"
    assert client.get(path, headers=client.headers_for(member)).status_code == 403
    answer = client.get(path, headers=client.headers_for("auditor"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    assert json.loads(answer.text.splitlines()[0])["pack"]["chain_pack_id"] == audit_world.small_pack
    assert client.get("/v1/audit/packs/999/bundle", headers=client.headers_for("auditor")).status_code == 404


def test_a_client_that_accepts_gzip_gets_the_same_bundle_gzipped(audit_world: AuditWorld, client):
    path = f"/v1/audit/packs/{audit_world.small_pack}/bundle"
    auditor = client.headers_for("auditor")
    plain = client.get(path, headers={**auditor, "Accept-Encoding": "identity"})
    packed = client.get(path, headers={**auditor, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text  # httpx inflates it
    assert int(packed.headers.get("content-length", 0)) < len(plain.content) or packed.num_bytes_downloaded < len(
        plain.content)


def test_an_attestation_is_signed_recorded_and_listed(audit_world: AuditWorld, client, chain_snapshot, tmp_path,
                                                      monkeypatch):
    assert client.get("/v1/attestations", headers=client.headers_for("financier")).status_code == 403
    assert client.get("/v1/attestations", headers=client.headers_for("investor")).json() == []
    audit_world.manifest.save(tmp_path / "deployment.json")
    monkeypatch.setattr(audit_cli, "connect_chain", lambda _url: audit_world.w3)
    monkeypatch.setattr(audit_cli, "platform", lambda: audit_world.world.platform)
    result = CliRunner().invoke(app, ["audit", "pack", str(audit_world.small_pack), "--manifest",
                                      str(tmp_path / "deployment.json"), "--attest", "--as", "auditor"])
    assert result.exit_code == 0, result.output
    chain = CliRunner().invoke(app, ["audit", "chain", "--manifest", str(tmp_path / "deployment.json"), "--attest",
                                     "--as", "auditor", "--state-out", str(tmp_path / "state.json")])
    assert chain.exit_code == 0, chain.output
    for member in ("investor", "exchange", "auditor"):
        listed = client.get("/v1/attestations", headers=client.headers_for(member)).json()
        assert [(a["subject"], a["verdict"]) for a in listed] == [("pack_root", "clean"), ("block_range", "clean")]
    pack_root = client.get("/v1/attestations", params={"pack_id": audit_world.small_pack},
                           headers=client.headers_for("investor")).json()
    (only,) = pack_root
    kept_root = audit_world.consortium.contract("AssetPack").functions.filterResult(audit_world.small_pack).call()[2]
    assert only["root"] == "0x" + kept_root.hex()
    assert only["auditor"] == audit_world.consortium.address("auditor")
    assert json.loads((tmp_path / "state.json").read_text())["packs"][str(audit_world.small_pack)]["state"] == 7


def test_a_statement_signed_by_a_non_auditor_is_refused(audit_world: AuditWorld, chain_snapshot):
    c = audit_world.consortium
    statement = Statement.over_pack(audit_world.small_pack, "0x" + "ab" * 32, 0, "0x" + "cd" * 32, 1)
    with pytest.raises(ContractCustomError) as refused:
        attest(c.sender("auditor"), c.sender("financier").account, c.contract("AttestationRegistry"), statement)
    assert refused.value.name == "AttestationRegistrySignerNotAuditor"
    attest(c.sender("auditor"), c.sender("auditor").account, c.contract("AttestationRegistry"), statement)
    with pytest.raises(ContractCustomError) as replayed:
        attest(c.sender("auditor"), c.sender("auditor").account, c.contract("AttestationRegistry"), statement)
    assert replayed.value.name == "AttestationRegistryAlreadyAttested"
