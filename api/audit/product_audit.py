"""``audit product ID``: a product's manifest against its committed pack, its tranche tokens
(found from ``ProductListed``) and its distributions, from the chain alone."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import ContractLogicError

from api.audit.report import AuditReport
from chain.audit.findings import Finding, mismatch
from chain.audit.handlers import hex32
from chain.audit.pack_facts import read_pack
from chain.audit.replay import rebuild_state
from chain.audit.transitions import PACK_STATES, state_name
from chain.contracts import contract_handle
from chain.errors import ContractRevertError
from chain.manifest import Manifest
from chain.revert import decode_exception

ISSUED = PACK_STATES.index("Issued")
PRODUCT_STATES = ("None", "Registered", "Listed")


def audit_product(w3: Web3, manifest: Manifest, product_id: int) -> AuditReport:
    report = AuditReport("product", str(product_id))
    subject = f"product {product_id}"
    registry = contract_handle(w3, manifest, "ProductRegistry")
    try:
        product = registry.functions.product(product_id).call()
    except (ContractRevertError, ContractLogicError) as exc:
        report.findings.append(Finding("product", subject, "exists", True, False, str(decode_exception(exc) or exc)))
        return report
    terms, state = product[0], PRODUCT_STATES[product[2]]
    pack_id = terms[1]
    facts = read_pack(contract_handle(w3, manifest, "AssetPack"), contract_handle(w3, manifest, "ScoreRegistry"),
                      pack_id)
    tranches = registry.functions.tranches(product_id).call()
    found = [*mismatch("product", subject, "kept_root", facts.kept_root, hex32(terms[2]), f"pack {pack_id}"),
             *mismatch("product", subject, "kept_count", facts.kept_count, terms[3]),
             *mismatch("product", subject, "kept_balance", facts.kept_balance, terms[4]),
             *mismatch("product", subject, "model_id", facts.model_id, terms[5]),
             *mismatch("product", subject, "tranche sizes", facts.kept_balance, sum(t[0][2] for t in tranches),
                       "the tranches add up to the kept balance")]
    if state == "Listed":
        issued_as = contract_handle(w3, manifest, "AssetPack").functions.issuedProduct(pack_id).call()
        found += mismatch("product", subject, "pack issued as", product_id, issued_as)
        if facts.state < ISSUED:
            found.append(Finding("product", subject, "pack state", ">= Issued", state_name(facts.state)))
    rebuilt = rebuild_state(w3, manifest).products.get(product_id)
    found += mismatch("replay", subject, "state", state, rebuilt.state if rebuilt else None)
    found += _tokens(w3, manifest, product_id, tranches, rebuilt.tokens if rebuilt else [])
    found += _distributions(registry, product_id, product[7], tranches)
    report.findings = found
    report.facts = {"pack_id": pack_id, "state": state, "tranches": len(tranches), "distributions": product[7]}
    report.checked = {"tranches": len(tranches), "distributions": product[7]}
    return report


def _tokens(w3: Web3, manifest: Manifest, product_id: int, tranches: list, listed: list[str]) -> list[Finding]:
    found: list[Finding] = []
    abi = contract_handle(w3, manifest, "TrancheToken").abi
    for index, tranche in enumerate(tranches):
        token = tranche[1]
        subject = f"product {product_id} tranche {index}"
        if listed:
            found += mismatch("product", subject, "token", listed[index] if index < len(listed) else None, token,
                              "the ProductListed event's tokens")
        if int(token, 16) == 0:
            continue
        handle = w3.eth.contract(address=token, abi=abi)
        found += mismatch("token", subject, "productId", product_id, handle.functions.productId().call())
        found += mismatch("token", subject, "trancheIndex", index, handle.functions.trancheIndex().call())
        cap, supply = handle.functions.cap().call(), handle.functions.totalSupply().call()
        if supply > cap:
            found.append(Finding("token", subject, "totalSupply", f"<= cap {cap}", supply))
    return found


def _distributions(registry, product_id: int, count: int, tranches: list) -> list[Finding]:  # noqa: ANN001
    found: list[Finding] = []
    previous = [t[0][2] for t in tranches]
    for period in range(1, count + 1):
        outstanding = list(registry.functions.distribution(product_id, period).call()[2])
        for index, (before, after) in enumerate(zip(previous, outstanding)):
            if after > before:
                found.append(Finding("distribution", f"product {product_id} period {period}",
                                     f"tranche {index} outstanding", f"<= {before}", after))
        previous = outstanding
    return found
