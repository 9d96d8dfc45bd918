"""Listing checks: an issuance request against the chain, as a pure function of the two.

Every field the request states is compared with the contract that holds it: the pack's record
and filter result (AssetPack), the model (ModelRegistry) and the registered manifest
(ProductRegistry). The answer lists every discrepancy, not just the first, so a refused
financier learns at once what to fix.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import keccak

from api.exchange.facts import ModelFacts, PackFacts, PackState, ProductFacts, ProductState
from api.exchange.schemas import IssuanceRequest


@dataclass(frozen=True)
class Discrepancy:
    """One field of the request that the chain contradicts."""

    field: str
    requested: Any
    on_chain: Any
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def document_hash(content: bytes) -> str:
    """A document's identity on chain: keccak256 of the file's bytes, 0x-hex."""
    return "0x" + keccak(content).hex()


def verify_issuance(
    request: IssuanceRequest, pack: PackFacts | None, product: ProductFacts | None, model: ModelFacts | None
) -> list[Discrepancy]:
    """Every discrepancy between ``request`` and the chain; an empty list means listable."""
    if product is None:
        return [Discrepancy("product_id", request.product_id, None, "no such product in the ProductRegistry")]
    found: list[Discrepancy] = []

    def check(field: str, requested: Any, on_chain: Any, where: str) -> None:
        if requested != on_chain:
            found.append(Discrepancy(field, requested, on_chain, f"differs from {where}"))

    check("pack_id", request.pack_id, product.pack_id, "the product's pack in the ProductRegistry")
    check("issuance_key", request.issuance_key, product.issuance_key, "the registered issuance key")
    if pack is None:
        found.append(Discrepancy("pack_id", request.pack_id, None, "no such pack in AssetPack"))
        return found
    _check_pack_state(request, pack, product, found)
    check("financier", request.financier, pack.financier, "the pack's financier")
    check("financier", request.financier, product.financier, "the product's registering financier")
    for field in ("kept_root", "kept_count", "kept_balance"):
        check(field, getattr(request, field), getattr(pack, field), "the pack's committed filter result")
        check(field, getattr(request, field), getattr(product, field), "the registered manifest")
    check("model_id", request.model_id, pack.model_id, "the model that scored the pack")
    check("model_id", request.model_id, product.model_id, "the registered manifest")
    if model is None or not model.active:
        state = "not registered" if model is None else "retired"
        found.append(Discrepancy("model_id", request.model_id, state, "the model must be registered and not retired"))
    check("expected_bad_rate_ppm", request.expected_bad_rate_ppm, pack.expected_bad_rate_ppm, "the pack's target")
    check("bad_rate_before_ppm", request.bad_rate_before_ppm, pack.bad_rate_before_ppm, "the filter result")
    check("bad_rate_after_ppm", request.bad_rate_after_ppm, pack.bad_rate_after_ppm, "the filter result")
    check("weight_by", request.weight_by, pack.weight_by, "the filter result")
    check("maturity", request.maturity, product.maturity, "the registered manifest")
    check("payments_per_year", request.payments_per_year, product.payments_per_year, "the registered manifest")
    _check_tranches(request, pack, product, found)
    _check_documents(request, product, found)
    _check_level_mix(request, pack, found)
    return found


def _check_pack_state(request: IssuanceRequest, pack: PackFacts, product: ProductFacts, found: list) -> None:
    resumed = pack.issued_product == request.product_id  # an earlier attempt already marked it
    if pack.state is not PackState.COMMITTED and not resumed:
        reason = "the pack must be Committed"
        if pack.issued_product:
            reason += f"; it was already issued as product {pack.issued_product}"
        found.append(Discrepancy("pack_state", "Committed", pack.state.name.title(), reason))
    if product.state is ProductState.LISTED and not resumed:
        found.append(Discrepancy("product_state", "Registered", "Listed", "the product is listed already"))


def _check_tranches(request: IssuanceRequest, pack: PackFacts, product: ProductFacts, found: list) -> None:
    total = sum(t.size for t in request.tranches)
    if total != pack.kept_balance:
        found.append(Discrepancy("tranches.size", total, pack.kept_balance,
                                 "tranche sizes must add up to the pack's kept balance"))
    if len(request.tranches) != len(product.tranches):
        found.append(Discrepancy("tranches", len(request.tranches), len(product.tranches),
                                 "the number of tranches differs from the registered manifest"))
        return
    for index, (asked, registered) in enumerate(zip(request.tranches, product.tranches)):
        for field in ("name", "symbol", "size", "coupon_bps", "qualified_only"):
            if getattr(asked, field) != getattr(registered, field):
                found.append(Discrepancy(f"tranches[{index}].{field}", getattr(asked, field),
                                         getattr(registered, field), "differs from the registered manifest"))


def _check_documents(request: IssuanceRequest, product: ProductFacts, found: list) -> None:
    sent = {d.kind: d for d in request.documents}
    for kind, on_chain in product.document_hashes.items():
        document = sent.get(kind)
        if document is None:
            found.append(Discrepancy(f"documents.{kind}", None, on_chain, "the document is missing from the request"))
            continue
        if document.keccak256 != on_chain:
            found.append(Discrepancy(f"documents.{kind}", document.keccak256, on_chain,
                                     "differs from the registered document hash"))
        if document.content_b64 is not None:
            try:
                content = base64.b64decode(document.content_b64, validate=True)
            except (binascii.Error, ValueError):
                found.append(Discrepancy(f"documents.{kind}.content", "not base64", on_chain, "unreadable content"))
                continue
            if document_hash(content) != on_chain:
                found.append(Discrepancy(f"documents.{kind}.content", document_hash(content), on_chain,
                                         "the file sent does not hash to the registered document hash"))


def _check_level_mix(request: IssuanceRequest, pack: PackFacts, found: list) -> None:
    mix = request.kept_level_mix
    if mix is None:
        return
    if sum(mix.counts) != pack.kept_count:
        found.append(Discrepancy("kept_level_mix.counts", sum(mix.counts), pack.kept_count,
                                 "the kept assets per level must add up to the kept count"))
    if sum(mix.balances) != pack.kept_balance:
        found.append(Discrepancy("kept_level_mix.balances", sum(mix.balances), pack.kept_balance,
                                 "the kept balances per level must add up to the kept balance"))
    for level, (count, graded) in enumerate(zip(mix.counts, pack.level_counts), start=1):
        if count > graded:
            found.append(Discrepancy(f"kept_level_mix.counts[{level}]", count, graded,
                                     "more assets kept in this level than were graded into it"))
    for level, (balance, graded) in enumerate(zip(mix.balances, pack.level_balances), start=1):
        if balance > graded:
            found.append(Discrepancy(f"kept_level_mix.balances[{level}]", balance, graded,
                                     "more balance kept in this level than was graded into it"))
