"""Deploying the platform and seating the consortium, as recorded in the manifest."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chain.compile import compile_contracts
from chain.contracts import PlatformContracts, contract_handle
from chain.deploy import ContractSpec, Ref, Seat, deploy_platform, platform_specs, seat_consortium
from chain.errors import DeploymentError, ManifestError, UnknownContractError
from chain.manifest import Manifest
from testbed import BOOTSTRAPPED, GOVERNORS, MEMBER_ROLES, QUORUM


def test_manifest_records_every_deployed_contract(w3, consortium):
    manifest = consortium.manifest
    artifacts = compile_contracts()

    assert set(manifest.contracts) == {spec.name for spec in platform_specs()}
    for record in manifest.contracts.values():
        receipt = w3.eth.get_transaction_receipt(record.deploy_tx)
        assert receipt["contractAddress"] == record.address
        assert receipt["blockNumber"] == record.deploy_block
        assert record.abi_hash == artifacts[record.name].abi_hash
    assert manifest.deploy_block == min(r.deploy_block for r in manifest.contracts.values())
    assert manifest.chain_id == w3.eth.chain_id and manifest.rpc_kind == "embedded"


def test_contracts_receive_the_registry_they_depend_on(consortium):
    registry = consortium.manifest.contract("MemberRegistry").address

    for name in ("CreditRegistry", "ModelRegistry", "ScoreRegistry", "AssetPack"):
        assert consortium.contract(name).functions.registry().call() == registry


def test_manifest_members_carry_the_roles_the_chain_reports(consortium):
    members = consortium.manifest.members

    assert set(members) == set(MEMBER_ROLES)
    for name, roles in MEMBER_ROLES.items():
        assert members[name].address == consortium.address(name)
        assert members[name].roles == tuple(role.name for role in roles)
    assert consortium.manifest.member_at(consortium.address("outsider")) is None


def test_deploying_again_with_the_manifest_sends_nothing(w3, consortium):
    height = w3.eth.block_number
    before = dict(consortium.manifest.contracts)

    again = deploy_platform(w3, consortium.sender("deployer"), manifest=consortium.manifest)

    assert w3.eth.block_number == height
    assert again.contracts == before


def test_an_interrupted_deployment_resumes(w3, make_sender):
    deployer = make_sender("resumer")
    specs = platform_specs()
    partial = deploy_platform(w3, deployer, specs[:2])

    complete = deploy_platform(w3, deployer, specs, manifest=Manifest.from_dict(partial.to_dict()))

    assert {n: complete.contracts[n] for n in partial.contracts} == partial.contracts
    assert set(complete.contracts) == {spec.name for spec in specs}


def test_a_reference_to_an_undeployed_contract_is_refused(w3, make_sender):
    specs = [ContractSpec("CreditRegistry", (Ref("MemberRegistry"),))]

    with pytest.raises(DeploymentError, match="MemberRegistry must be deployed before"):
        deploy_platform(w3, make_sender("hasty"), specs)


def test_seating_again_skips_members_already_admitted(w3, consortium):
    height = w3.eth.block_number
    seats = [Seat(name, consortium.address(name), roles) for name, roles in MEMBER_ROLES.items()]

    seat_consortium(
        consortium.manifest,
        consortium.sender("deployer"),
        [s for s in seats if s.name in BOOTSTRAPPED],
        QUORUM,
        admissions=[s for s in seats if s.name not in BOOTSTRAPPED],
        governors=[consortium.sender(name) for name in GOVERNORS],
    )

    assert w3.eth.block_number == height


def test_manifest_survives_a_save_and_load(tmp_path, consortium):
    path = tmp_path / "deploy" / "manifest.json"

    consortium.manifest.save(path)

    assert Manifest.load(path) == consortium.manifest
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temporary left behind
    assert json.loads(path.read_text())["members"]["gov-a"]["roles"] == ["GOVERNOR"]


def test_missing_or_malformed_manifest_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError, match="deploy the platform first"):
        Manifest.load(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text('{"chain_id": 1}')
    with pytest.raises(ManifestError, match="malformed"):
        Manifest.load(tmp_path / "bad.json")


def test_handles_refuse_a_manifest_that_no_longer_matches(w3, consortium):
    manifest = Manifest.from_dict(consortium.manifest.to_dict())
    record = manifest.contract("CreditRegistry")
    manifest.contracts["CreditRegistry"] = dataclasses.replace(record, abi_hash="0x" + "00" * 32)
    manifest.contracts["AssetPack"] = dataclasses.replace(
        manifest.contract("AssetPack"), address="0x000000000000000000000000000000000000dEaD"
    )

    with pytest.raises(ManifestError, match="ABI hash"):
        contract_handle(w3, manifest, "CreditRegistry")
    with pytest.raises(ManifestError, match="no code"):
        contract_handle(w3, manifest, "AssetPack")
    with pytest.raises(UnknownContractError):
        contract_handle(w3, manifest, "Nonexistent")


def test_handles_refuse_a_manifest_of_another_chain(w3, consortium):
    foreign = dataclasses.replace(consortium.manifest, chain_id=1)

    with pytest.raises(ManifestError, match="chain 1"):
        PlatformContracts(w3, foreign)
