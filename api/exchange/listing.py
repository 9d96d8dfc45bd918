"""Listing: an issuance request is verified against the chain, refused with its discrepancies or
listed, and the listing is acknowledged on chain.

The chain writes are ``AssetPack.markIssued`` then ``ProductRegistry.listProduct`` (which
clones the tranche tokens). Both are skipped when already made, so a listing interrupted by a
crash or a chain outage is finished by sending the same request again. Every request, listed
or refused, is kept in ``exchange_listing_attempt``.
"""

from __future__ import annotations

import base64
import json

from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from api.db.engine import session_scope
from api.errors import ConflictError, ForbiddenError, InvalidInputError
from api.exchange.errors import ListingRefusedError
from api.exchange.keys import Caller
from api.exchange.models import LISTED, LISTING, Document, ListingAttempt, Product, Tranche, utcnow
from api.exchange.onchain import ExchangeChain, require_product
from api.exchange.schemas import IssuanceRequest
from api.exchange.verification import verify_issuance
from chain.leaves import canonical_json


def request_without_content(request: IssuanceRequest) -> dict:
    body = request.model_dump(mode="json")
    for document in body["documents"]:
        document["content_b64"] = None
    return body


def listing_ref(request: IssuanceRequest) -> str:
    """The exchange's acknowledgement of exactly this request: keccak256 of its canonical JSON
    (documents' content left out; their hashes are in)."""
    return "0x" + keccak(canonical_json(request_without_content(request))).hex()


class ListingDesk:
    def __init__(self, engine: Engine, chain: ExchangeChain, max_document_bytes: int) -> None:
        self.engine = engine
        self.chain = chain
        self.max_document_bytes = max_document_bytes

    def list(self, caller: Caller, request: IssuanceRequest) -> dict:
        """Verify ``request`` and list it; raises ``ListingRefusedError`` with every discrepancy."""
        caller.require("FINANCIER")
        if caller.address != request.financier:
            raise ForbiddenError(f"member {caller.name!r} may only ask to list products of its own packs")
        ref = listing_ref(request)
        with Session(self.engine) as session:
            existing = session.get(Product, request.product_id)
        if existing is not None and existing.state == LISTED:
            if existing.listing_ref == ref:
                return self._summary(existing.id)
            raise ConflictError(f"product {request.product_id} is listed already, from another request")

        pack = self.chain.pack(request.pack_id)
        product = self.chain.product(request.product_id)
        model = self.chain.model(request.model_id)
        problems = verify_issuance(request, pack, product, model)
        if problems:
            self._record_attempt(request.product_id, caller, "refused", [p.to_dict() for p in problems])
            raise ListingRefusedError(
                f"product {request.product_id} disagrees with the chain in {len(problems)} point(s); not listed",
                details={"product_id": request.product_id, "discrepancies": [p.to_dict() for p in problems]},
            )
        self._store(request, ref, replace=existing is not None)
        mark_tx = self.chain.mark_issued(request.pack_id, request.product_id)
        list_tx, block = self.chain.list_product(request.product_id, ref)
        listed = require_product(self.chain, request.product_id)
        with session_scope(self.engine) as session:
            row = session.get(Product, request.product_id)
            row.state = LISTED
            row.listed_at = utcnow()
            row.mark_issued_tx = mark_tx or row.mark_issued_tx
            row.listing_tx = list_tx or row.listing_tx
            row.listing_block = block or row.listing_block
            for tranche in session.exec(select(Tranche).where(Tranche.product_id == row.id)).all():
                tranche.token = listed.tranches[tranche.idx].token
                session.add(tranche)
            session.add(row)
        self._record_attempt(request.product_id, caller, "listed", [])
        return self._summary(request.product_id)

    def attempts(self, product_id: int) -> list[dict]:
        with Session(self.engine) as session:
            rows = session.exec(select(ListingAttempt).where(ListingAttempt.product_id == product_id)
                                .order_by(ListingAttempt.id)).all()
        return [{"member": r.member_name, "outcome": r.outcome, "received_at": r.received_at.isoformat(),
                 "discrepancies": json.loads(r.reasons_json)} for r in rows]

    def _store(self, request: IssuanceRequest, ref: str, *, replace: bool) -> None:
        documents = []
        for document in request.documents:
            content = base64.b64decode(document.content_b64) if document.content_b64 is not None else None
            if content is not None and len(content) > self.max_document_bytes:
                raise InvalidInputError(f"the {document.kind} is larger than {self.max_document_bytes} bytes")
            documents.append(Document(product_id=request.product_id, kind=document.kind, filename=document.filename,
                                      keccak256=document.keccak256, content=content))
        with session_scope(self.engine) as session:
            if replace:  # an earlier attempt stopped before the chain listed it
                for table in (Tranche, Document):
                    session.exec(delete(table).where(table.product_id == request.product_id))
                session.exec(delete(Product).where(Product.id == request.product_id))
                session.flush()
            session.add(Product(
                id=request.product_id, pack_id=request.pack_id, financier=request.financier,
                issuance_key=request.issuance_key, listing_ref=ref,
                request_json=json.dumps(request_without_content(request), sort_keys=True),
                state=LISTING, maturity=request.maturity, payments_per_year=request.payments_per_year,
            ))
            session.flush()
            for idx, spec in enumerate(request.tranches):
                session.add(Tranche(product_id=request.product_id, idx=idx, name=spec.name, symbol=spec.symbol,
                                    size=spec.size, coupon_bps=spec.coupon_bps, qualified_only=spec.qualified_only,
                                    outstanding=spec.size))
            session.add_all(documents)

    def _record_attempt(self, product_id: int, caller: Caller, outcome: str, reasons: list[dict]) -> None:
        with session_scope(self.engine) as session:
            session.add(ListingAttempt(product_id=product_id, member_name=caller.name, outcome=outcome,
                                       reasons_json=json.dumps(reasons, default=str)))

    def _summary(self, product_id: int) -> dict:
        with Session(self.engine) as session:
            row = session.get(Product, product_id)
            tranches = session.exec(select(Tranche).where(Tranche.product_id == product_id).order_by(Tranche.idx)).all()
        return {
            "product_id": row.id, "pack_id": row.pack_id, "state": row.state, "listing_ref": row.listing_ref,
            "mark_issued_tx": row.mark_issued_tx, "listing_tx": row.listing_tx, "book": row.book_state,
            "tranches": [{"index": t.idx, "name": t.name, "symbol": t.symbol, "size": t.size, "token": t.token}
                         for t in tranches],
        }
