"""``audit chain``: the platform's state rebuilt from every event since the deploy block, every
pack's history checked, and the rebuilt state compared with what the contracts' views say now
(a contract whose storage and events disagree is a finding too)."""

from __future__ import annotations

from web3 import Web3

from api.audit.report import AuditReport
from chain.audit.findings import Finding, mismatch
from chain.audit.replay import rebuild_state
from chain.audit.state import ChainState
from chain.audit.transitions import check_history
from chain.contracts import contract_handle
from chain.events import DEFAULT_PAGE_BLOCKS
from chain.manifest import Manifest
from chain.roles import Role


def audit_chain(w3: Web3, manifest: Manifest, *, to_block: int | None = None,
                page_blocks: int = DEFAULT_PAGE_BLOCKS) -> tuple[AuditReport, ChainState]:
    state = rebuild_state(w3, manifest, to_block=to_block, page_blocks=page_blocks)
    report = AuditReport("chain", f"blocks {state.from_block}..{state.to_block}")
    for pack in state.packs.values():
        report.findings += check_history(pack.pack_id, pack.history)
    if to_block is None or to_block == w3.eth.block_number:  # views show the latest state only
        report.findings += compare_views(w3, manifest, state)
    report.checked = {"blocks": f"{state.from_block}..{state.to_block}", "events": state.event_count,
                      "members": len(state.members), "packs": len(state.packs), "products": len(state.products),
                      "tranche tokens": len(state.tokens), "event windows": len(state.windows),
                      "warnings": len(state.warnings), "active freezes": len(state.freezes),
                      "attestations": len(state.attestations)}
    report.facts = {"unhandled events": state.unhandled} if state.unhandled else {}
    return report, state


def compare_views(w3: Web3, manifest: Manifest, state: ChainState) -> list[Finding]:
    """The rebuilt state against the contracts' views: members' roles, packs, products, tokens, freezes."""
    found: list[Finding] = []
    registry = contract_handle(w3, manifest, "MemberRegistry")
    for address, member in state.members.items():
        roles = {Role.from_id(bytes(r)).name for r in registry.functions.rolesOf(address).call()}
        found += mismatch("replay", f"member {member.name or address}", "roles", sorted(roles), sorted(member.roles))
    packs = contract_handle(w3, manifest, "AssetPack")
    for pack in state.packs.values():
        view = packs.functions.pack(pack.pack_id).call()
        found += mismatch("replay", f"pack {pack.pack_id}", "state", view[6], pack.state)
    if "ProductRegistry" in manifest.contracts:
        products = contract_handle(w3, manifest, "ProductRegistry")
        for product in state.products.values():
            view = products.functions.product(product.product_id).call()
            found += mismatch("replay", f"product {product.product_id}", "state", ("None", "Registered", "Listed")[
                view[2]], product.state)
    token_abi = contract_handle(w3, manifest, "TrancheToken").abi
    for token in state.tokens.values():
        handle = w3.eth.contract(address=token.address, abi=token_abi)
        found += mismatch("replay", f"token {token.address}", "totalSupply", handle.functions.totalSupply().call(),
                          token.total_supply)
        for holder, units in token.balances.items():
            found += mismatch("replay", f"token {token.address}", f"balanceOf({holder})",
                              handle.functions.balanceOf(holder).call(), units)
    collateral = contract_handle(w3, manifest, "CollateralRegistry")
    for asset, freeze in state.freezes.items():
        view = collateral.functions.freezeOf(asset).call()
        found += mismatch("replay", f"freeze {asset}", "frozen_bps", view[1], freeze["frozen_bps"])
    return found
