"""The same deployment, governance and denials on a real Hardhat node over JSON-RPC."""

from __future__ import annotations

import pytest
from role_matrix import DENIALS, dummy_args, function_key, is_state_changing
from web3.logs import DISCARD

from chain.deploy import pass_proposal
from chain.errors import ContractCustomError
from chain.events import replay_platform
from chain.roles import Role
from testbed import MEMBER_ROLES, account_for

pytestmark = pytest.mark.integration


def _first_write_of_each_contract(consortium) -> list[tuple[str, dict]]:
    cases = []
    for name in consortium.contracts.names():
        writes = [e for e in consortium.contract(name).abi if is_state_changing(e)]
        cases.append((name, writes[0]))
    return cases


def test_platform_deploys_with_the_manifest_pointing_at_live_code(hardhat_consortium, hardhat_w3):
    manifest = hardhat_consortium.manifest

    assert manifest.chain_id == 31337 and manifest.rpc_kind == "hardhat"
    for record in manifest.contracts.values():
        assert hardhat_w3.eth.get_code(record.address) != b""
    assert set(manifest.members) == set(MEMBER_ROLES)


def test_outsider_is_denied_one_write_of_every_contract(hardhat_consortium):
    outsider = hardhat_consortium.outsider

    for contract, entry in _first_write_of_each_contract(hardhat_consortium):
        denial = DENIALS[function_key(contract, entry)]
        handle = hardhat_consortium.contract(contract)
        function = handle.get_function_by_name(entry["name"])(*dummy_args(entry))
        with pytest.raises(ContractCustomError) as denied:
            outsider.transact(function)
        assert denied.value.name == denial.error, function_key(contract, entry)
        assert denial.expected(outsider.address) in (None, denied.value.args)


def test_governors_admit_a_member_by_quorum(hardhat_consortium):
    registry = hardhat_consortium.registry
    newcomer = account_for("hardhat-newcomer").address
    propose = registry.functions.proposeAdmit(newcomer, "hardhat-newcomer", [bytes(Role.INVESTOR)])

    proposal_id, receipt = pass_proposal(registry, hardhat_consortium.governors, propose)

    executed = registry.events.ProposalExecuted().process_receipt(receipt, errors=DISCARD)
    assert executed[0]["args"]["proposalId"] == proposal_id
    assert registry.functions.hasRole(bytes(Role.INVESTOR), newcomer).call()


def test_quorum_error_is_decoded_over_json_rpc(hardhat_consortium):
    registry = hardhat_consortium.registry
    newcomer = account_for("hardhat-lonely").address
    receipt = hardhat_consortium.sender("gov-b").transact(
        registry.functions.proposeAdmit(newcomer, "hardhat-lonely", [bytes(Role.AUDITOR)])
    )
    (created,) = registry.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)

    with pytest.raises(ContractCustomError) as refused:
        hardhat_consortium.sender("gov-b").transact(registry.functions.execute(created["args"]["proposalId"]))

    assert refused.value.name == "MemberRegistryQuorumNotReached"
    assert refused.value.args == (created["args"]["proposalId"], 1, 2)


def test_auditor_replays_the_history_from_the_manifest(hardhat_consortium, hardhat_w3):
    records = list(replay_platform(hardhat_w3, hardhat_consortium.manifest, page_blocks=4))

    assert [r.position for r in records] == sorted(r.position for r in records)
    assert {r.args["name"] for r in records if r.event == "MemberAdmitted"} >= set(MEMBER_ROLES)
