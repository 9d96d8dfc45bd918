"""Deploy the platform and seat the consortium; both record what they did in the manifest.

The contract list is declarative: a :class:`ContractSpec` names an artifact and its constructor
arguments, where :class:`Ref` stands for the address of a contract deployed earlier in the same
list (every platform contract takes the MemberRegistry). Both steps are safe to re-run: a
contract already in the manifest with code on chain is kept, a member already admitted is
skipped, so an interrupted deployment resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from chain.backends import backend_kind
from chain.contracts import MEMBER_REGISTRY, contract_handle, platform_artifacts
from chain.errors import DeploymentError
from chain.manifest import ContractRecord, Manifest, MemberRecord
from chain.roles import Role
from chain.sender import Sender

DEFAULT_PROPOSAL_LIFETIME = 7 * 24 * 3600  # a week to gather approvals from other organisations


@dataclass(frozen=True)
class Ref:
    """The address of the contract ``name`` deployed earlier in the same spec list."""

    name: str


@dataclass(frozen=True)
class ContractSpec:
    """Deploy artifact ``name`` with constructor ``args`` (literals or :class:`Ref`)."""

    name: str
    args: tuple[Any, ...] = ()


def platform_specs(proposal_lifetime: int = DEFAULT_PROPOSAL_LIFETIME) -> list[ContractSpec]:
    """The platform's contracts in dependency order. New contracts append a line here."""
    registry = Ref(MEMBER_REGISTRY)
    return [
        ContractSpec(MEMBER_REGISTRY, (proposal_lifetime,)),
        ContractSpec("CreditRegistry", (registry,)),
        ContractSpec("ModelRegistry", (registry,)),
        ContractSpec("ScoreRegistry", (registry, Ref("ModelRegistry"))),
        ContractSpec("AssetPack", (registry, Ref("CreditRegistry"), Ref("ScoreRegistry"))),
        ContractSpec("CollateralRegistry", (registry,)),
        ContractSpec("InvestorRegistry", (registry,)),
        ContractSpec("TrancheToken", (registry, Ref("InvestorRegistry"))),  # the template tranches clone
        ContractSpec("ProductRegistry", (registry, Ref("AssetPack"), Ref("ModelRegistry"), Ref("TrancheToken"))),
        ContractSpec("PackMonitor", (registry, Ref("AssetPack"), Ref("ScoreRegistry"))),  # post-issuance monitoring
        ContractSpec("AttestationRegistry", (registry,)),  # auditors' signed verdicts
    ]


@dataclass(frozen=True)
class Seat:
    """A member to seat: its name, account and roles."""

    name: str
    address: str
    roles: tuple[Role, ...]


def deploy_platform(
    w3: Web3,
    deployer: Sender,
    contract_specs: Sequence[ContractSpec] | None = None,
    *,
    manifest: Manifest | None = None,
    artifacts: Mapping[str, Any] | None = None,
) -> Manifest:
    """Deploy ``contract_specs`` (default: :func:`platform_specs`) and return the manifest."""
    specs = list(contract_specs) if contract_specs is not None else platform_specs()
    artifacts = artifacts if artifacts is not None else platform_artifacts()
    chain_id = w3.eth.chain_id
    if manifest is None:
        manifest = Manifest(chain_id=chain_id, rpc_kind=backend_kind(w3).value)
    elif manifest.chain_id != chain_id:
        raise DeploymentError(f"the manifest is for chain {manifest.chain_id}, not {chain_id}")
    for spec in specs:
        artifact = artifacts.get(spec.name)
        if artifact is None or artifact.bytecode in ("", "0x"):
            raise DeploymentError(f"{spec.name} is not a deployable compiled contract")
        if _already_deployed(w3, manifest, spec.name, artifact.abi_hash):
            continue
        args = [_resolve(arg, manifest) for arg in spec.args]
        address, receipt = deployer.deploy_with_receipt(artifact, *args)
        manifest.record_contract(
            ContractRecord(
                name=spec.name,
                address=address,
                abi_hash=artifact.abi_hash,
                deploy_tx=Web3.to_hex(receipt["transactionHash"]),
                deploy_block=receipt["blockNumber"],
            )
        )
    return manifest


def _already_deployed(w3: Web3, manifest: Manifest, name: str, abi_hash: str) -> bool:
    record = manifest.contracts.get(name)
    if record is None or not w3.eth.get_code(record.address):
        return False
    if record.abi_hash != abi_hash:
        raise DeploymentError(
            f"{name} is deployed at {record.address} with another ABI; start a new manifest to redeploy"
        )
    return True


def _resolve(arg: Any, manifest: Manifest) -> Any:
    if isinstance(arg, Ref):
        if arg.name not in manifest.contracts:
            raise DeploymentError(f"{arg.name} must be deployed before the contracts that refer to it")
        return manifest.contracts[arg.name].address
    return arg


# ---------------------------------------------------------------- the consortium


def seat_consortium(
    manifest: Manifest,
    bootstrapper: Sender,
    founders: Sequence[Seat],
    quorum: int,
    *,
    admissions: Sequence[Seat] = (),
    governors: Sequence[Sender] = (),
) -> Manifest:
    """Seat ``founders`` through ``bootstrap`` (once), then admit ``admissions`` by governance.

    Each admission is proposed by ``governors[0]`` and approved by the next ones until the
    quorum is reached, then executed. Members already admitted are skipped. Every seat ends
    up in the manifest with the roles the chain reports for it.
    """
    registry = contract_handle(bootstrapper.w3, manifest, MEMBER_REGISTRY)
    if not registry.functions.bootstrapped().call():
        registry_roles = [[bytes(role) for role in seat.roles] for seat in founders]
        bootstrapper.transact(
            registry.functions.bootstrap(
                [seat.address for seat in founders], [seat.name for seat in founders], registry_roles, quorum
            )
        )
    for seat in admissions:
        if registry.functions.isMember(seat.address).call():
            continue
        propose = registry.functions.proposeAdmit(seat.address, seat.name, [bytes(r) for r in seat.roles])
        pass_proposal(registry, governors, propose)
    for seat in [*founders, *admissions]:
        record_member(manifest, registry, seat.name, seat.address)
    return manifest


def record_member(manifest: Manifest, registry: Contract, name: str, address: str) -> MemberRecord:
    """Write ``name``'s roles as the chain reports them into the manifest."""
    roles = tuple(Role.from_id(role_id).name for role_id in registry.functions.rolesOf(address).call())
    record = MemberRecord(name, address, roles)
    manifest.record_member(record)
    return record


def pass_proposal(
    registry: Contract, governors: Sequence[Sender], propose: ContractFunction
) -> tuple[int, TxReceipt]:
    """Propose with ``governors[0]``, approve with the next ones up to the quorum, execute.

    Returns the proposal id and the execution receipt. Refuses up front when fewer governors
    are given than the quorum needs, rather than leaving a half-approved proposal behind.
    """
    quorum = registry.functions.quorum().call()
    if len(governors) < quorum:
        raise DeploymentError(f"a proposal needs {quorum} governors' approvals, only {len(governors)} given")
    proposer, *others = governors
    created = registry.events.ProposalCreated().process_receipt(proposer.transact(propose), errors=DISCARD)
    if len(created) != 1:
        raise DeploymentError("the proposal transaction emitted no ProposalCreated event")
    proposal_id = created[0]["args"]["proposalId"]
    for approver in others[: quorum - 1]:  # the proposer's own approval already counts
        approver.transact(registry.functions.approve(proposal_id))
    return proposal_id, proposer.transact(registry.functions.execute(proposal_id))
