"""Each period's distribution: the waterfall over the period's collections, paid to the holders.

The servicer (the product's financier) or the exchange reports a period's interest, principal
and written-off defaults. The waterfall (``scoring.waterfall``) decides what each tranche gets;
each tranche's payment is shared among its holders on chain in proportion to their units by the
largest-remainder rule, and units never sold are the financier's (retained). The report is
stored, its keccak256 and the tranches' closing principal are anchored with
``ProductRegistry.recordDistribution``, then the cash ledger records the payments.

A report is fixed once stored (holdings are read once), so a distribution interrupted after
that point is finished with the very same figures by reporting the same period again.
"""

from __future__ import annotations

import json

from eth_utils import keccak
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.errors import ConflictError, ForbiddenError, InvalidInputError
from api.exchange import cash
from api.exchange.book import listed_product, tranches_of
from api.exchange.errors import BookStateError
from api.exchange.keys import Caller
from api.exchange.models import BOOK_ALLOCATED, PENDING, RECORDED, Distribution, Product, Tranche, utcnow
from api.exchange.onchain import ExchangeChain
from api.exchange.schemas import DistributionRequest
from chain.leaves import canonical_json
from scoring.allocation import split_pro_rata
from scoring.waterfall import Collections, TrancheState, WaterfallError, distribute_period


class PayingAgent:
    def __init__(self, engine: Engine, chain: ExchangeChain) -> None:
        self.engine = engine
        self.chain = chain

    def distribute(self, caller: Caller, product_id: int, request: DistributionRequest) -> dict:
        with Session(self.engine) as session:
            product = listed_product(session, product_id)
            self._require_servicer(caller, product)
            if product.book_state != BOOK_ALLOCATED:
                raise BookStateError(f"product {product_id} pays nothing before its book is allocated")
            stored = self._stored(session, product_id, request.period)
        if stored is None:
            if request.period != product.periods_recorded + 1:
                raise InvalidInputError(f"the next period of product {product_id} is {product.periods_recorded + 1}")
            stored = self._compute_and_store(caller, product, request)
        report = json.loads(stored.report_json)
        if report["waterfall"]["collections"] != _collections_dict(request):
            raise ConflictError(f"period {request.period} of product {product_id} was reported with other figures",
                                details={"reported": report["waterfall"]["collections"]})
        if stored.state == PENDING:
            self._anchor_and_pay(stored.id, report)
        return self.distribution(product_id, request.period)

    def distribution(self, product_id: int, period: int) -> dict:
        with Session(self.engine) as session:
            row = self._stored(session, product_id, period)
        if row is None:
            raise InvalidInputError(f"product {product_id} has no distribution for period {period}")
        return {"product_id": product_id, "period": period, "state": row.state, "report_hash": row.report_hash,
                "tx_hash": row.tx_hash, "report": json.loads(row.report_json)}

    def distributions(self, product_id: int) -> list[dict]:
        with Session(self.engine) as session:
            listed_product(session, product_id)
            rows = session.exec(select(Distribution).where(Distribution.product_id == product_id)
                                .order_by(Distribution.period)).all()
        return [{"period": r.period, "state": r.state, "report_hash": r.report_hash, "tx_hash": r.tx_hash,
                 "report": json.loads(r.report_json)} for r in rows]

    # ------------------------------------------------------------------ steps

    def _compute_and_store(self, caller: Caller, product: Product, request: DistributionRequest) -> Distribution:
        with Session(self.engine) as session:
            tranches = tranches_of(session, product.id)
        states = [TrancheState(t.symbol, t.outstanding, t.coupon_bps, t.interest_shortfall) for t in tranches]
        collections = Collections(request.interest, request.principal, request.defaults)
        try:
            period = distribute_period(request.period, states, collections, product.payments_per_year)
        except WaterfallError as exc:
            raise InvalidInputError(str(exc)) from None
        payments = []
        for tranche, flows in zip(tranches, period.tranches):
            payments += self._shares(product, tranche, flows.interest_paid, flows.principal_paid)
        report = {
            "product_id": product.id,
            "period": request.period,
            "waterfall": period.to_dict(),
            "payments": payments,
            "residual": {"account": cash.financier_account(product.financier), "amount": period.residual},
        }
        report_hash = "0x" + keccak(canonical_json(report)).hex()
        with session_scope(self.engine) as session:
            row = Distribution(product_id=product.id, period=request.period, report_hash=report_hash,
                               report_json=json.dumps(report, sort_keys=True), reported_by=caller.name)
            session.add(row)
            session.flush()
            return row

    def _shares(self, product: Product, tranche: Tranche, interest: int, principal: int) -> list[dict]:
        """The tranche's payments shared by units held on chain now; unsold units are retained."""
        holdings = sorted(self.chain.balances(tranche.token, product.listing_block).items())
        retained = tranche.size - sum(units for _, units in holdings)
        accounts = [cash.investor_account(holder) for holder, _ in holdings]
        units = [units for _, units in holdings]
        if retained:
            accounts.append(cash.financier_account(product.financier))
            units.append(retained)
        interests = split_pro_rata(interest, units)
        principals = split_pro_rata(principal, units)
        return [{"tranche": tranche.idx, "account": a, "units": u, "interest": i, "principal": p}
                for a, u, i, p in zip(accounts, units, interests, principals)]

    def _anchor_and_pay(self, distribution_pk: int, report: dict) -> None:
        product_id, period = report["product_id"], report["period"]
        flows = report["waterfall"]["tranches"]
        with Session(self.engine) as session:
            row = session.get(Distribution, distribution_pk)
        tx = self.chain.record_distribution(product_id, period, row.report_hash, [t["closing"] for t in flows])
        with session_scope(self.engine) as session:
            row = session.get(Distribution, distribution_pk)
            product = session.get(Product, product_id)
            pool = cash.pool_account(product_id)
            collections = report["waterfall"]["collections"]
            cash.record_movement(session, f"collections:{product_id}:{period}",
                                 payer=cash.financier_account(product.financier), payee=pool,
                                 amount=collections["interest"] + collections["principal"], kind="collections",
                                 product_id=product_id, period=period, tx_hash=tx)
            for n, pay in enumerate(report["payments"]):
                for kind in ("interest", "principal"):
                    cash.record_movement(session, f"{kind}:{product_id}:{period}:{n}", payer=pool,
                                         payee=pay["account"], amount=pay[kind], kind=kind, product_id=product_id,
                                         tranche_idx=pay["tranche"], period=period, units=pay["units"], tx_hash=tx)
            residual = report["residual"]
            cash.record_movement(session, f"residual:{product_id}:{period}", payer=pool, payee=residual["account"],
                                 amount=residual["amount"], kind="residual", product_id=product_id, period=period,
                                 tx_hash=tx)
            for tranche in tranches_of(session, product_id):
                tranche.outstanding = flows[tranche.idx]["closing"]
                tranche.interest_shortfall = flows[tranche.idx]["shortfall_carried"]
                session.add(tranche)
            product.periods_recorded = period
            row.state, row.tx_hash, row.recorded_at = RECORDED, tx or row.tx_hash, utcnow()
            session.add_all([product, row])

    @staticmethod
    def _stored(session: Session, product_id: int, period: int) -> Distribution | None:
        return session.exec(select(Distribution).where(Distribution.product_id == product_id,
                                                       Distribution.period == period)).first()

    @staticmethod
    def _require_servicer(caller: Caller, product: Product) -> None:
        if caller.has("EXCHANGE") or (caller.has("FINANCIER") and caller.address == product.financier):
            return
        raise ForbiddenError(f"member {caller.name!r} neither services product {product.id} nor runs the exchange")


def _collections_dict(request: DistributionRequest) -> dict:
    return {"interest": request.interest, "principal": request.principal, "defaults": request.defaults}
