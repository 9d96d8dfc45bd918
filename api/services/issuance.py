"""Issuance, the financier's side: structure a product from a Committed pack, register its
manifest in the ProductRegistry, and ask the exchange to list it.

Functional core, imperative shell: ``structure_product`` is a pure function of the pack's
on-chain facts, the product design and the documents; ``IssuanceService`` reads the facts,
checks the signer may issue on the pack, and makes the two writes. Registration is idempotent
through the manifest's issuance key (a hash of the whole plan), so ``issue`` may be repeated.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from api.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from api.exchange.client import ExchangeClient
from api.exchange.facts import PackFacts, PackState
from api.exchange.onchain import ChainReader
from api.exchange.schemas import DOCUMENT_KINDS, DocumentRef, IssuanceRequest, LevelMix, TrancheSpec
from api.exchange.verification import document_hash
from chain.leaves import canonical_json, from_hex32
from chain.roles import Role
from chain.sender import Sender
from scoring.allocation import split_pro_rata

BPS = 10_000


@dataclass(frozen=True)
class TrancheDesign:
    """A tranche as the financier designs it: its share of the kept balance and its coupon."""

    name: str
    symbol: str
    share_bps: int
    coupon_bps: int
    qualified_only: bool = False


@dataclass(frozen=True)
class ProductDesign:
    tranches: tuple[TrancheDesign, ...]  # most senior first
    maturity: dt.date
    payments_per_year: int = 12

    @property
    def maturity_timestamp(self) -> int:
        return int(dt.datetime.combine(self.maturity, dt.time(), dt.timezone.utc).timestamp())


def senior_subordinated(
    pack_id: int, *, senior_share_bps: int = 8_000, senior_coupon_bps: int = 450, junior_coupon_bps: int = 900,
    junior_qualified_only: bool = True,
) -> tuple[TrancheDesign, ...]:
    """The usual two tranches, 80/20 by balance unless told otherwise."""
    return (
        TrancheDesign(f"ABS {pack_id} Senior", f"ABS{pack_id}-A", senior_share_bps, senior_coupon_bps),
        TrancheDesign(f"ABS {pack_id} Subordinated", f"ABS{pack_id}-B", BPS - senior_share_bps, junior_coupon_bps,
                      junior_qualified_only),
    )


@dataclass(frozen=True)
class DocumentFile:
    kind: str  # prospectus | servicing_agreement
    filename: str
    content: bytes = field(repr=False)

    @property
    def keccak256(self) -> str:
        return document_hash(self.content)


@dataclass(frozen=True)
class ProductPlan:
    """Everything the manifest and the issuance request will say, decided before any write."""

    pack_id: int
    financier: str
    kept_root: str
    kept_count: int
    kept_balance: int
    model_id: int
    expected_bad_rate_ppm: int
    bad_rate_before_ppm: int
    bad_rate_after_ppm: int
    weight_by: str
    maturity: int
    payments_per_year: int
    tranches: tuple[TrancheSpec, ...]
    documents: tuple[tuple[str, str, str], ...]  # (kind, filename, keccak256)
    kept_level_mix: LevelMix | None = None
    issuance_key: str = ""

    def to_json(self) -> str:
        body = asdict(self)
        body["tranches"] = [t.model_dump() for t in self.tranches]
        body["kept_level_mix"] = self.kept_level_mix.model_dump() if self.kept_level_mix else None
        return json.dumps(body, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ProductPlan:
        body = json.loads(text)
        body["tranches"] = tuple(TrancheSpec(**t) for t in body["tranches"])
        body["documents"] = tuple(tuple(d) for d in body["documents"])
        body["kept_level_mix"] = LevelMix(**body["kept_level_mix"]) if body.get("kept_level_mix") else None
        return cls(**body)

    def terms(self) -> tuple:
        """IProductRegistry.ProductTerms, as the contract takes it."""
        hashes = {kind: digest for kind, _, digest in self.documents}
        return (from_hex32(self.issuance_key), self.pack_id, from_hex32(self.kept_root), self.kept_count,
                self.kept_balance, self.model_id, self.maturity, self.payments_per_year,
                from_hex32(hashes["prospectus"]), from_hex32(hashes["servicing_agreement"]))

    def tranche_terms(self) -> list[tuple]:
        return [(t.name, t.symbol, t.size, t.coupon_bps, t.qualified_only) for t in self.tranches]

    def request(self, product_id: int, files: Sequence[DocumentFile] = ()) -> IssuanceRequest:
        """The issuance request for the exchange; documents' content is sent when ``files`` are given."""
        content = {f.kind: base64.b64encode(f.content).decode() for f in files}
        return IssuanceRequest(
            product_id=product_id, issuance_key=self.issuance_key, pack_id=self.pack_id, financier=self.financier,
            kept_root=self.kept_root, kept_count=self.kept_count, kept_balance=self.kept_balance,
            model_id=self.model_id, expected_bad_rate_ppm=self.expected_bad_rate_ppm,
            bad_rate_before_ppm=self.bad_rate_before_ppm, bad_rate_after_ppm=self.bad_rate_after_ppm,
            weight_by=self.weight_by, kept_level_mix=self.kept_level_mix, maturity=self.maturity,
            payments_per_year=self.payments_per_year, tranches=list(self.tranches),
            documents=[DocumentRef(kind=k, filename=f, keccak256=h, content_b64=content.get(k))
                       for k, f, h in self.documents],
        )


def structure_product(
    pack: PackFacts, design: ProductDesign, documents: Sequence[DocumentFile], kept_level_mix: LevelMix | None = None
) -> ProductPlan:
    """The product a design makes of a Committed pack: tranche sizes split from the kept balance
    by the largest-remainder rule (so they add up to it exactly), documents hashed."""
    if pack.state is not PackState.COMMITTED:
        raise ConflictError(f"pack {pack.pack_id} is {pack.state.name.title()}; only a Committed pack is issued")
    if not 2 <= len(design.tranches) <= 8:
        raise InvalidInputError("a product has 2 to 8 tranches")
    shares = [t.share_bps for t in design.tranches]
    if any(s <= 0 for s in shares) or sum(shares) != BPS:
        raise InvalidInputError(f"tranche shares must be positive and add up to {BPS} bps, got {shares}")
    sizes = split_pro_rata(pack.kept_balance, shares)
    if any(size == 0 for size in sizes):
        raise InvalidInputError(f"the kept balance {pack.kept_balance} is too small for shares {shares}")
    kinds = sorted(d.kind for d in documents)
    if kinds != sorted(DOCUMENT_KINDS):
        raise InvalidInputError(f"a product needs exactly one of each document: {', '.join(DOCUMENT_KINDS)}")
    plan = ProductPlan(
        pack_id=pack.pack_id, financier=pack.financier, kept_root=pack.kept_root, kept_count=pack.kept_count,
        kept_balance=pack.kept_balance, model_id=pack.model_id, expected_bad_rate_ppm=pack.expected_bad_rate_ppm,
        bad_rate_before_ppm=pack.bad_rate_before_ppm, bad_rate_after_ppm=pack.bad_rate_after_ppm,
        weight_by=pack.weight_by, maturity=design.maturity_timestamp, payments_per_year=design.payments_per_year,
        tranches=tuple(TrancheSpec(name=t.name, symbol=t.symbol, size=size, coupon_bps=t.coupon_bps,
                                   qualified_only=t.qualified_only) for t, size in zip(design.tranches, sizes)),
        documents=tuple(sorted((d.kind, d.filename, d.keccak256) for d in documents)),
        kept_level_mix=kept_level_mix,
    )
    key = "0x" + keccak(b"abs-issuance:" + canonical_json(json.loads(plan.to_json()))).hex()
    return ProductPlan(**{**plan.__dict__, "issuance_key": key})


class IssuanceService:
    """The financier's issuance, signed by ``sender`` (a FINANCIER member)."""

    def __init__(self, reader: ChainReader, sender: Sender, exchange: ExchangeClient | None = None) -> None:
        self.reader = reader
        self.sender = sender
        self.exchange = exchange

    def structure(self, pack_id: int, design: ProductDesign, documents: Sequence[DocumentFile],
                  kept_level_mix: LevelMix | None = None) -> ProductPlan:
        registry = self.reader.contracts["MemberRegistry"]
        if not registry.functions.hasRole(bytes(Role.FINANCIER), self.sender.address).call():
            raise ForbiddenError(f"{self.sender.name} does not hold the FINANCIER role")
        pack = self.reader.pack(pack_id)
        if pack is None:
            raise NotFoundError(f"no pack {pack_id} on chain")
        if pack.financier != self.sender.address:
            raise ForbiddenError(f"pack {pack_id} belongs to financier {pack.financier}, not {self.sender.address}")
        return structure_product(pack, design, documents, kept_level_mix)

    def register(self, plan: ProductPlan) -> int:
        """The product's id in the ProductRegistry, registering the manifest unless it already is."""
        existing = self.reader.product_of_issuance(plan.issuance_key)
        if existing:
            return existing
        registry = self.reader.contracts["ProductRegistry"]
        receipt = self.sender.transact(registry.functions.registerProduct(plan.terms(), plan.tranche_terms()))
        (event,) = registry.events.ProductRegistered().process_receipt(receipt, errors=DISCARD)
        return event["args"]["productId"]

    def issue(self, plan: ProductPlan, files: Sequence[DocumentFile] = ()) -> dict:
        """Register (if needed) and ask the exchange to list; the exchange's refusal is raised."""
        if self.exchange is None:
            raise InvalidInputError("no exchange client: give the exchange's URL and an API key")
        for f in files:
            if (f.kind, f.filename, f.keccak256) not in plan.documents:
                raise InvalidInputError(f"{f.filename} is not the {f.kind} the plan was made with (its hash differs)")
        product_id = self.register(plan)
        listing = self.exchange.request_listing(plan.request(product_id, files))
        return {"product_id": product_id, "financier": Web3.to_checksum_address(self.sender.address), **listing}
