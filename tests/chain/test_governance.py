"""Consortium governance as members experience it: m of n governors decide, nobody else."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from chain.backends import advance_time
from chain.deploy import pass_proposal
from chain.errors import ContractCustomError, DeploymentError
from chain.roles import Role
from role_matrix import dummy_call
from testbed import PROPOSAL_LIFETIME, account_for

NEWCOMER = account_for("newcomer").address


def _propose_admit(consortium, proposer="gov-a"):
    registry = consortium.registry
    receipt = consortium.sender(proposer).transact(
        registry.functions.proposeAdmit(NEWCOMER, "newcomer", [bytes(Role.FINANCIER)])
    )
    (created,) = registry.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    return created["args"]["proposalId"]


def test_quorum_of_governors_admits_a_member(consortium):
    registry = consortium.registry
    proposal_id = _propose_admit(consortium)

    consortium.sender("gov-b").transact(registry.functions.approve(proposal_id))
    consortium.sender("gov-a").transact(registry.functions.execute(proposal_id))

    assert registry.functions.isMember(NEWCOMER).call()
    assert registry.functions.hasRole(bytes(Role.FINANCIER), NEWCOMER).call()
    assert registry.functions.memberOf(NEWCOMER).call()[0] == "newcomer"


def test_one_approval_short_of_quorum_admits_nobody(consortium):
    registry = consortium.registry
    proposal_id = _propose_admit(consortium)  # the proposer's own approval: 1 of the 2 needed

    with pytest.raises(ContractCustomError) as refused:
        consortium.sender("gov-a").transact(registry.functions.execute(proposal_id))

    assert refused.value.name == "MemberRegistryQuorumNotReached"
    assert refused.value.args == (proposal_id, 1, 2)
    assert not registry.functions.isMember(NEWCOMER).call()


def test_a_governor_cannot_approve_twice(consortium):
    registry = consortium.registry
    proposal_id = _propose_admit(consortium)

    with pytest.raises(ContractCustomError) as refused:
        consortium.sender("gov-a").transact(registry.functions.approve(proposal_id))

    assert refused.value.name == "MemberRegistryAlreadyApproved"
    assert refused.value.args == (proposal_id, consortium.address("gov-a"))


def test_expired_proposal_cannot_execute(consortium, w3):
    registry = consortium.registry
    proposal_id = _propose_admit(consortium)
    consortium.sender("gov-b").transact(registry.functions.approve(proposal_id))
    expires_at = registry.functions.proposal(proposal_id).call()[7]

    advance_time(w3, PROPOSAL_LIFETIME + 1)
    with pytest.raises(ContractCustomError) as refused:
        consortium.sender("gov-a").transact(registry.functions.execute(proposal_id))

    assert refused.value.name == "MemberRegistryProposalExpired"
    assert refused.value.args == (proposal_id, expires_at)
    assert not registry.functions.isMember(NEWCOMER).call()


def test_removed_member_loses_its_roles_and_its_writes(consortium):
    registry = consortium.registry
    financier = consortium.address("financier")
    submit = dummy_call(consortium.contract("AssetPack"), "submitPack")
    assert consortium.sender("financier").transact(submit)["status"] == 1  # allowed while a member

    pass_proposal(registry, consortium.governors, registry.functions.proposeRemove(financier))

    assert not registry.functions.isMember(financier).call()
    assert registry.functions.rolesOf(financier).call() == []
    with pytest.raises(ContractCustomError) as denied:
        consortium.sender("financier").transact(dummy_call(consortium.contract("AssetPack"), "submitPack"))
    assert denied.value.name == "ConsortiumGuardedUnauthorizedAccount"
    assert denied.value.args == (financier, bytes(Role.FINANCIER))


def test_pause_stops_guarded_writes_until_unpause(consortium, w3):
    registry, credit = consortium.registry, consortium.contract("CreditRegistry")
    bureau = consortium.sender("bureau")

    def commit(root: bytes):
        as_of = w3.eth.get_block("latest")["timestamp"]
        return bureau.transact(credit.functions.commitBatch(root, 10, as_of))

    commit(b"\x01" * 32)
    pass_proposal(registry, consortium.governors, registry.functions.proposePause())
    assert registry.functions.paused().call()

    with pytest.raises(ContractCustomError) as paused:
        commit(b"\x02" * 32)
    assert paused.value.name == "ConsortiumGuardedEnforcedPause"

    pass_proposal(registry, consortium.governors, registry.functions.proposeUnpause())
    assert commit(b"\x02" * 32)["status"] == 1
    assert credit.functions.batchCount().call() == 2


def test_bootstrapper_holds_no_power_after_bootstrap(consortium):
    registry = consortium.registry
    deployer = consortium.sender("deployer")
    assert registry.functions.bootstrapper().call() == deployer.address
    assert registry.functions.rolesOf(deployer.address).call() == []

    with pytest.raises(ContractCustomError) as ended:
        deployer.transact(registry.functions.bootstrap([NEWCOMER], ["newcomer"], [[bytes(Role.GOVERNOR)]], 1))
    assert ended.value.name == "MemberRegistryBootstrapEnded"

    with pytest.raises(ContractCustomError) as not_governor:
        deployer.transact(registry.functions.proposeAdmit(NEWCOMER, "newcomer", [bytes(Role.GOVERNOR)]))
    assert not_governor.value.name == "MemberRegistryNotGovernor"
    assert not_governor.value.args == (deployer.address,)


def test_pass_proposal_refuses_up_front_without_enough_governors(consortium):
    registry = consortium.registry
    before = registry.functions.proposalCount().call()

    with pytest.raises(DeploymentError):
        pass_proposal(registry, consortium.governors[:1], registry.functions.proposePause())

    assert registry.functions.proposalCount().call() == before
