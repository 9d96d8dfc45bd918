"""``absctl members ...``: member keys, the consortium's members, and m-of-n governance.

Every change to membership or roles is a proposal that governors approve and then execute
(see contracts/MemberRegistry.sol); these commands sign with the governor named by ``--as``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table
from web3 import Web3

from api.cli.common import AS_MEMBER, console, parse_role, platform, reports_errors
from api.platform import Platform
from chain.contracts import MEMBER_REGISTRY
from chain.deploy import Seat, record_member, seat_consortium
from chain.roles import Role

app = typer.Typer(help="Member keys, the consortium's members and governance proposals.")

PROPOSAL_KINDS = ("Admit", "Remove", "GrantRole", "RevokeRole", "SetQuorum", "Pause", "Unpause")
# The demo consortium of scripts/run: governors 2-of-3 and one organisation per other role.
DEMO_GOVERNORS = ("gov-a", "gov-b", "gov-c")
DEMO_MEMBERS: dict[str, Role] = {
    "financier": Role.FINANCIER,
    "bureau": Role.CREDIT_BUREAU,
    "scorer": Role.SCORER,
    "exchange": Role.EXCHANGE,
    "investor": Role.INVESTOR,
    "iot-gateway": Role.IOT_GATEWAY,
    "auditor": Role.AUDITOR,
}


@app.command()
@reports_errors
def keygen(name: str) -> None:
    """Create NAME's key in the encrypted keystore (ABS_KEYSTORE_PASSWORD) and print its address."""
    key = platform().keys.generate(name)
    console.print(f"{key.name} {key.address}")


@app.command("list")
@reports_errors
def list_members() -> None:
    """Every member the chain knows, with its roles as the MemberRegistry reports them now."""
    context = platform()
    registry = context.contract(MEMBER_REGISTRY)
    table = Table(title=f"members (quorum {registry.functions.quorum().call()}, "
                        f"paused: {registry.functions.paused().call()})")
    for column in ("name", "address", "active", "roles"):
        table.add_column(column)
    for address in registry.functions.members().call():
        name, active, _admitted = registry.functions.memberOf(address).call()
        roles = ", ".join(Role.from_id(r).name for r in registry.functions.rolesOf(address).call())
        table.add_row(name, address, "yes" if active else "no", roles)
    console.print(table)


@app.command("seat-demo")
@reports_errors
def seat_demo(
    quorum: int = typer.Option(2, help="governor approvals a proposal needs"),
    bootstrapper: str = typer.Option("deployer", "--as", help="the deployer's key, which bootstraps once"),
) -> None:
    """Seat the demo consortium: governors gov-a, gov-b, gov-c (2-of-3) and one member per role.

    The governors and the financier are seated by the one-time bootstrap; every other member
    is admitted by a governance proposal, approved and executed. Re-running changes nothing.
    """
    context = platform()
    keys = {name: context.keys.ensure(name) for name in (*DEMO_GOVERNORS, *DEMO_MEMBERS)}
    founders = [Seat(name, keys[name].address, (Role.GOVERNOR,)) for name in DEMO_GOVERNORS]
    founders.append(Seat("financier", keys["financier"].address, (Role.FINANCIER,)))
    admissions = [Seat(name, keys[name].address, (role,)) for name, role in DEMO_MEMBERS.items()
                  if name != "financier"]
    manifest = seat_consortium(
        context.manifest, context.sender(bootstrapper), founders, quorum,
        admissions=admissions, governors=[context.sender(name) for name in DEMO_GOVERNORS],
    )
    manifest.save(context.settings.manifest_path)
    for record in manifest.members.values():
        console.print(f"{record.name:<12} {record.address}  {', '.join(record.roles)}")


def _propose(context: Platform, governor: str, call) -> int:  # noqa: ANN001
    registry = context.contract(MEMBER_REGISTRY)
    receipt = context.sender(governor).transact(call(registry.functions))
    created = registry.events.ProposalCreated().process_receipt(receipt)
    proposal_id = created[0]["args"]["proposalId"]
    console.print(f"proposal {proposal_id} created by {governor}; it needs "
                  f"{registry.functions.quorum().call()} approvals (the proposer's counts)")
    return proposal_id


@app.command("propose-admit")
@reports_errors
def propose_admit(
    name: str, address: str,
    role: list[str] = typer.Option(..., "--role", help="a role of the new member (repeatable)"),
    governor: str = AS_MEMBER,
) -> None:
    """Propose to admit the organisation NAME at ADDRESS with the given roles."""
    roles = [bytes(parse_role(r)) for r in role]
    account = Web3.to_checksum_address(address)
    _propose(platform(), governor, lambda f: f.proposeAdmit(account, name, roles))


@app.command("propose-remove")
@reports_errors
def propose_remove(address: str, governor: str = AS_MEMBER) -> None:
    """Propose to remove the member at ADDRESS (it loses every role)."""
    account = Web3.to_checksum_address(address)
    _propose(platform(), governor, lambda f: f.proposeRemove(account))


@app.command("propose-grant")
@reports_errors
def propose_grant(address: str, role: str, governor: str = AS_MEMBER) -> None:
    """Propose to grant ROLE to the member at ADDRESS."""
    account, role_id = Web3.to_checksum_address(address), bytes(parse_role(role))
    _propose(platform(), governor, lambda f: f.proposeGrantRole(account, role_id))


@app.command("propose-revoke")
@reports_errors
def propose_revoke(address: str, role: str, governor: str = AS_MEMBER) -> None:
    """Propose to revoke ROLE from the member at ADDRESS."""
    account, role_id = Web3.to_checksum_address(address), bytes(parse_role(role))
    _propose(platform(), governor, lambda f: f.proposeRevokeRole(account, role_id))


@app.command("propose-quorum")
@reports_errors
def propose_quorum(quorum: int, governor: str = AS_MEMBER) -> None:
    """Propose a new quorum (governor approvals per proposal)."""
    _propose(platform(), governor, lambda f: f.proposeSetQuorum(quorum))


@app.command("propose-pause")
@reports_errors
def propose_pause(governor: str = AS_MEMBER) -> None:
    """Propose to pause every state-changing function of the platform's contracts."""
    _propose(platform(), governor, lambda f: f.proposePause())


@app.command("propose-unpause")
@reports_errors
def propose_unpause(governor: str = AS_MEMBER) -> None:
    """Propose to lift the pause."""
    _propose(platform(), governor, lambda f: f.proposeUnpause())


@app.command()
@reports_errors
def approve(proposal_id: int, governor: str = AS_MEMBER) -> None:
    """Approve a proposal as a governor."""
    context = platform()
    registry = context.contract(MEMBER_REGISTRY)
    context.sender(governor).transact(registry.functions.approve(proposal_id))
    approvals = registry.functions.proposal(proposal_id).call()[8]
    console.print(f"proposal {proposal_id}: {approvals} approvals, quorum {registry.functions.quorum().call()}")


@app.command()
@reports_errors
def execute(proposal_id: int, governor: str = AS_MEMBER) -> None:
    """Execute a proposal that has its quorum; the manifest's member list follows the chain."""
    context = platform()
    registry = context.contract(MEMBER_REGISTRY)
    context.sender(governor).transact(registry.functions.execute(proposal_id))
    proposal = registry.functions.proposal(proposal_id).call()
    kind, account, name = PROPOSAL_KINDS[proposal[0]], proposal[2], proposal[4]
    manifest = context.manifest
    known = manifest.member_at(account)
    if kind in ("Admit", "Remove", "GrantRole", "RevokeRole") and (known or name):
        record_member(manifest, registry, known.name if known else name, account)
        manifest.save(context.settings.manifest_path)
    console.print(f"proposal {proposal_id} ({kind}) executed")


@app.command()
@reports_errors
def proposals() -> None:
    """Every governance proposal with its kind, target, approvals and status."""
    context = platform()
    registry = context.contract(MEMBER_REGISTRY)
    table = Table(title="governance proposals")
    for column in ("id", "kind", "account", "name/role", "approvals", "expires (UTC)", "status"):
        table.add_column(column)
    now = datetime.fromtimestamp(context.w3.eth.get_block("latest")["timestamp"], UTC)  # chain time
    for proposal_id in range(1, registry.functions.proposalCount().call() + 1):
        kind, _proposer, account, role, name, _roles, quorum, expires, approvals, executed = (
            registry.functions.proposal(proposal_id).call()
        )
        expires_at = datetime.fromtimestamp(expires, UTC)
        state = "executed" if executed else ("expired" if expires_at < now else "open")
        label = name or (Role.from_id(role).name if any(role) else (str(quorum) if quorum else ""))
        table.add_row(str(proposal_id), PROPOSAL_KINDS[kind], account, label, str(approvals),
                      expires_at.strftime("%Y-%m-%d %H:%M"), state)
    console.print(table)
