"""The subscription book: investors' orders while it is open, allocation when it closes.

Closing runs in three steps, each safe to repeat after a crash:

1. *allocate* (one database transaction): orders of investors who are no longer eligible are
   rejected with the chain's reason; each tranche's units are allocated to the remaining orders,
   pro rata by the largest-remainder rule if oversubscribed (``scoring.allocation``);
2. *mint*: one ``mintAllocation`` per tranche, under an allocation id the token refuses to
   mint twice;
3. *settle* (one database transaction): each allocated order's payment is recorded in the
   cash ledger, investor to financier, at par (one unit = one minor unit of face value).
"""

from __future__ import annotations

from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.errors import InvalidInputError, NotFoundError
from api.exchange import cash
from api.exchange.errors import BookStateError, IneligibleInvestorError
from api.exchange.facts import Eligibility
from api.exchange.keys import Caller
from api.exchange.models import (
    ALLOCATED,
    BOOK_ALLOCATED,
    BOOK_ALLOCATING,
    BOOK_OPEN,
    BOOKED,
    CANCELLED,
    LISTED,
    REJECTED,
    Product,
    Subscription,
    Tranche,
    utcnow,
)
from api.exchange.onchain import ExchangeChain
from api.exchange.schemas import SubscriptionRequest
from scoring.allocation import Order, allocate_book


def subscription_dict(s: Subscription) -> dict:
    return {
        "id": s.id, "product_id": s.product_id, "tranche": s.tranche_idx, "investor": s.investor_name,
        "investor_address": s.investor_address, "requested": s.requested, "allocated": s.allocated,
        "status": s.status, "reason": s.reason, "created_at": s.created_at.isoformat(),
    }


def listed_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.state != LISTED:
        raise NotFoundError(f"product {product_id} is not listed on this exchange")
    return product


def tranches_of(session: Session, product_id: int) -> list[Tranche]:
    return list(session.exec(select(Tranche).where(Tranche.product_id == product_id).order_by(Tranche.idx)).all())


class SubscriptionBook:
    def __init__(self, engine: Engine, chain: ExchangeChain) -> None:
        self.engine = engine
        self.chain = chain

    def subscribe(self, caller: Caller, product_id: int, request: SubscriptionRequest) -> dict:
        """Book an order; refused if the book is closed or the investor may not hold the tranche."""
        caller.require("INVESTOR")
        with Session(self.engine) as session:
            product = listed_product(session, product_id)
            if product.book_state != BOOK_OPEN:
                raise BookStateError(f"the book of product {product_id} is closed")
            tranche = self._tranche(session, product_id, request.tranche)
        if request.units > tranche.size:
            raise InvalidInputError(f"tranche {tranche.idx} has {tranche.size} units; {request.units} were asked for")
        self._require_eligible(caller.address, caller.name, tranche)
        with session_scope(self.engine) as session:
            if listed_product(session, product_id).book_state != BOOK_OPEN:  # closed meanwhile
                raise BookStateError(f"the book of product {product_id} is closed")
            row = Subscription(product_id=product_id, tranche_idx=tranche.idx, investor_name=caller.name,
                               investor_address=caller.address, requested=request.units)
            session.add(row)
            session.flush()
            return subscription_dict(row)

    def cancel(self, caller: Caller, subscription_id: int) -> dict:
        with session_scope(self.engine) as session:
            row = session.get(Subscription, subscription_id)
            if row is None or row.investor_address != caller.address:
                raise NotFoundError(f"no subscription {subscription_id} of member {caller.name!r}")
            if row.status != BOOKED or listed_product(session, row.product_id).book_state != BOOK_OPEN:
                raise BookStateError(f"subscription {subscription_id} can no longer be cancelled")
            row.status = CANCELLED
            session.add(row)
            return subscription_dict(row)

    def orders(self, caller: Caller, product_id: int) -> list[dict]:
        """The whole book for the exchange; an investor sees its own orders."""
        with Session(self.engine) as session:
            listed_product(session, product_id)
            query = select(Subscription).where(Subscription.product_id == product_id)
            if not caller.has("EXCHANGE"):
                caller.require("INVESTOR")
                query = query.where(Subscription.investor_address == caller.address)
            return [subscription_dict(s) for s in session.exec(query.order_by(Subscription.id)).all()]

    def close(self, caller: Caller, product_id: int) -> dict:
        """Allocate, mint and settle (see the module docstring); returns the allocation per tranche."""
        caller.require("EXCHANGE")
        with Session(self.engine) as session:
            state = listed_product(session, product_id).book_state
        if state == BOOK_OPEN:
            self._allocate(product_id)
        elif state == BOOK_ALLOCATED:
            return self.allocation(product_id)
        self._mint(product_id)
        self._settle(product_id)
        return self.allocation(product_id)

    def allocation(self, product_id: int) -> dict:
        with Session(self.engine) as session:
            product = listed_product(session, product_id)
            tranches = tranches_of(session, product_id)
            subs = session.exec(select(Subscription).where(Subscription.product_id == product_id)
                                .order_by(Subscription.id)).all()
        result = []
        for t in tranches:
            mine = [s for s in subs if s.tranche_idx == t.idx and s.status != CANCELLED]
            requested = sum(s.requested for s in mine if s.status != REJECTED)
            allocated = sum(s.allocated or 0 for s in mine)
            result.append({"tranche": t.idx, "symbol": t.symbol, "offered": t.size, "requested": requested,
                           "allocated": allocated, "unallocated": t.size - allocated,
                           "oversubscribed": requested > t.size, "allocation_id": t.allocation_id,
                           "mint_tx": t.allocation_tx, "orders": [subscription_dict(s) for s in mine]})
        return {"product_id": product_id, "book": product.book_state, "tranches": result}

    # ------------------------------------------------------------------ steps

    def _allocate(self, product_id: int) -> None:
        with session_scope(self.engine) as session:
            product = listed_product(session, product_id)
            if product.book_state != BOOK_OPEN:
                return
            for tranche in tranches_of(session, product_id):
                orders = session.exec(select(Subscription).where(
                    Subscription.product_id == product_id, Subscription.tranche_idx == tranche.idx,
                    Subscription.status == BOOKED).order_by(Subscription.id)).all()
                eligible = []
                for order in orders:
                    verdict = self.chain.eligibility(order.investor_address, tranche.qualified_only)
                    if verdict is Eligibility.ELIGIBLE:
                        eligible.append(order)
                    else:
                        order.status, order.allocated = REJECTED, 0
                        order.reason = f"at closing, the investor {verdict.explanation}"[:200]
                        session.add(order)
                book = allocate_book(tranche.size, [Order(str(o.id), o.requested) for o in eligible])
                for order in eligible:
                    order.allocated = book.of(str(order.id))
                    order.status, order.allocated_at = ALLOCATED, utcnow()
                    session.add(order)
                tranche.allocation_id = allocation_id(self.chain.w3.eth.chain_id, product_id, tranche.idx)
                session.add(tranche)
            product.book_state = BOOK_ALLOCATING
            session.add(product)

    def _mint(self, product_id: int) -> None:
        with Session(self.engine) as session:
            tranches = tranches_of(session, product_id)
            subs = session.exec(select(Subscription).where(Subscription.product_id == product_id,
                                                           Subscription.status == ALLOCATED)
                                .order_by(Subscription.id)).all()
        for tranche in tranches:
            per_investor: dict[str, int] = {}  # first order booked first
            for s in subs:
                if s.tranche_idx == tranche.idx and s.allocated:
                    per_investor[s.investor_address] = per_investor.get(s.investor_address, 0) + s.allocated
            if not per_investor:
                continue
            tx = self.chain.mint_allocation(tranche.token, tranche.allocation_id, list(per_investor),
                                            list(per_investor.values()))
            if tx is not None:  # None: minted before a crash; the token refused to mint it twice
                with session_scope(self.engine) as session:
                    row = session.get(Tranche, tranche.id)
                    row.allocation_tx = tx
                    session.add(row)

    def _settle(self, product_id: int) -> None:
        with session_scope(self.engine) as session:
            product = listed_product(session, product_id)
            tranches = {t.idx: t for t in tranches_of(session, product_id)}
            subs = session.exec(select(Subscription).where(Subscription.product_id == product_id,
                                                           Subscription.status == ALLOCATED)).all()
            for s in subs:
                movement = f"subscription:{s.id}"
                if not s.allocated or cash.movement_recorded(session, movement):
                    continue
                cash.record_movement(session, movement, payer=cash.investor_account(s.investor_address),
                                     payee=cash.financier_account(product.financier), amount=s.allocated,
                                     kind="subscription", product_id=product_id, tranche_idx=s.tranche_idx,
                                     units=s.allocated, subscription_id=s.id,
                                     tx_hash=tranches[s.tranche_idx].allocation_tx)
            product.book_state = BOOK_ALLOCATED
            session.add(product)

    def _tranche(self, session: Session, product_id: int, index: int) -> Tranche:
        for tranche in tranches_of(session, product_id):
            if tranche.idx == index:
                return tranche
        raise NotFoundError(f"product {product_id} has no tranche {index}")

    def _require_eligible(self, address: str, name: str, tranche: Tranche) -> None:
        verdict = self.chain.eligibility(address, tranche.qualified_only)
        if verdict is Eligibility.ELIGIBLE:
            return
        details = {"reason": verdict.code, "investor": address, "tranche": tranche.idx}
        if verdict is Eligibility.WHITELIST_EXPIRED:
            details["expired_at"] = self.chain.whitelist_entry(address).expires_at
        raise IneligibleInvestorError(f"member {name!r} {verdict.explanation}; tranche {tranche.symbol} refused",
                                      details=details)


def allocation_id(chain_id: int, product_id: int, tranche_idx: int) -> str:
    """The id a tranche's book allocation is minted under; the token mints each id once."""
    return "0x" + keccak(f"abs-exchange-allocation:{chain_id}:{product_id}:{tranche_idx}".encode()).hex()
