"""What the exchange shows: products, tranche state, holders (to the exchange only), each
product's risk profile, proof links and monitoring, and an investor's holdings and transactions.

Holdings and pack state are read from the chain at the time of the request; terms, the book and
payments from the exchange's database.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.errors import NotFoundError
from api.exchange import cash
from api.exchange.book import listed_product, tranches_of
from api.exchange.facts import PackState
from api.exchange.keys import Caller
from api.exchange.models import LISTED, CashEntry, Distribution, Document, Product, Subscription, Tranche
from api.exchange.monitoring import PackMonitorReader
from api.exchange.onchain import ExchangeChain

MONITORING_STATUS = {
    PackState.ISSUED: "issued; no monitoring cycle recorded yet",
    PackState.MONITORING: "under monitoring",
    PackState.CLOSED: "closed",
}
CSV_COLUMNS = ("time", "product_id", "tranche", "kind", "units", "amount", "status", "reference", "tx_hash")


class ExchangeViews:
    def __init__(self, engine: Engine, chain: ExchangeChain) -> None:
        self.engine = engine
        self.chain = chain
        self.monitor = PackMonitorReader(chain)

    def products(self) -> list[dict]:
        with Session(self.engine) as session:
            rows = session.exec(select(Product).where(Product.state == LISTED).order_by(Product.id)).all()
            return [self._summary(session, row) for row in rows]

    def product(self, product_id: int) -> dict:
        with Session(self.engine) as session:
            row = listed_product(session, product_id)
            detail = self._summary(session, row)
            documents = session.exec(select(Document).where(Document.product_id == product_id)).all()
        detail["tranches"] = self.tranches(product_id)
        detail["documents"] = [{"kind": d.kind, "filename": d.filename, "keccak256": d.keccak256,
                                "available": d.content is not None} for d in documents]
        detail["risk_profile"] = self.risk_profile(product_id)
        detail["proofs"] = self.proofs(product_id)
        detail["monitoring"] = self.monitor.summary(product_id)
        return detail

    def monitoring(self, product_id: int) -> dict:
        """Monitoring status, cycles, triggers, measures and replacements, from the chain alone."""
        with Session(self.engine) as session:
            listed_product(session, product_id)
        return self.monitor.view(product_id)

    def tranches(self, product_id: int) -> list[dict]:
        with Session(self.engine) as session:
            listed_product(session, product_id)
            tranches = tranches_of(session, product_id)
        return [{
            "index": t.idx, "name": t.name, "symbol": t.symbol, "size": t.size, "coupon_bps": t.coupon_bps,
            "qualified_only": t.qualified_only, "token": t.token, "units_issued": self.chain.total_supply(t.token),
            "outstanding": t.outstanding, "factor_ppm": t.outstanding * 1_000_000 // t.size,
            "interest_shortfall": t.interest_shortfall,
        } for t in tranches]

    def holders(self, caller: Caller, product_id: int) -> list[dict]:
        caller.require("EXCHANGE")
        with Session(self.engine) as session:
            product = listed_product(session, product_id)
            tranches = tranches_of(session, product_id)
        return [{"tranche": t.idx, "symbol": t.symbol, "token": t.token,
                 "holders": [{"address": a, "units": u} for a, u in
                             sorted(self.chain.balances(t.token, product.listing_block).items())]}
                for t in tranches]

    def risk_profile(self, product_id: int) -> dict:
        with Session(self.engine) as session:
            row = listed_product(session, product_id)
        request = json.loads(row.request_json)
        pack = self.chain.pack(row.pack_id)
        model = self.chain.model(pack.model_id)
        after = request.get("kept_level_mix")
        levels = [{
            "level": level,
            "before": {"count": pack.level_counts[level - 1], "balance": pack.level_balances[level - 1]},
            "after": None if after is None else {"count": after["counts"][level - 1],
                                                 "balance": after["balances"][level - 1]},
        } for level in range(1, 11)]
        return {
            "pack_id": pack.pack_id, "levels": levels, "weight_by": pack.weight_by, "filter_mode": pack.filter_mode,
            "bad_rate_before_ppm": pack.bad_rate_before_ppm, "bad_rate_after_ppm": pack.bad_rate_after_ppm,
            "expected_bad_rate_ppm": pack.expected_bad_rate_ppm, "kept_count": pack.kept_count,
            "removed_count": pack.removed_count, "kept_balance": pack.kept_balance,
            "model": {"id": model.model_id, "name": model.name, "active": model.active},
            "monitoring": {"pack_state": pack.state.name.title(),
                           "status": MONITORING_STATUS.get(pack.state, pack.state.name.lower())},
        }

    def proofs(self, product_id: int) -> dict:
        """Where an auditor checks this product with nothing but the chain's RPC endpoint."""
        with Session(self.engine) as session:
            row = listed_product(session, product_id)
            tranches = tranches_of(session, product_id)
            distributions = session.exec(select(Distribution).where(Distribution.product_id == product_id)
                                         .order_by(Distribution.period)).all()
        addresses = {name: self.chain.contract_address(name)
                     for name in ("AssetPack", "ModelRegistry", "ProductRegistry", "InvestorRegistry")}
        return {
            "chain_id": self.chain.w3.eth.chain_id,
            "contracts": addresses,
            "calls": {
                "pack": f"AssetPack.pack({row.pack_id}), AssetPack.filterResult({row.pack_id})",
                "asset_inclusion":
                    f"AssetPack.verifyAsset({row.pack_id}, true, assetId, recordHash, score, level, proof)",
                "issued_as": f"AssetPack.issuedProduct({row.pack_id}) == {product_id}",
                "manifest": f"ProductRegistry.product({product_id}), ProductRegistry.tranches({product_id})",
                "distribution": f"ProductRegistry.distribution({product_id}, period)",
            },
            "issuance_key": row.issuance_key,
            "listing_ref": row.listing_ref,
            "transactions": {"mark_issued": row.mark_issued_tx, "listing": row.listing_tx},
            "tokens": [{"tranche": t.idx, "symbol": t.symbol, "address": t.token} for t in tranches],
            "distributions": [{"period": d.period, "report_hash": d.report_hash, "tx_hash": d.tx_hash}
                              for d in distributions],
        }

    def document(self, product_id: int, kind: str) -> tuple[str, bytes]:
        with Session(self.engine) as session:
            listed_product(session, product_id)
            row = session.exec(select(Document).where(Document.product_id == product_id,
                                                      Document.kind == kind)).first()
        if row is None or row.content is None:
            raise NotFoundError(f"product {product_id} has no {kind} on file at this exchange")
        return row.filename, row.content

    def holdings(self, caller: Caller) -> dict:
        caller.require("INVESTOR")
        account = cash.investor_account(caller.address)
        with Session(self.engine) as session:
            tranches = session.exec(select(Tranche).join(Product).where(Product.state == LISTED)
                                    .order_by(Tranche.product_id, Tranche.idx)).all()
            entries = cash.entries_of(session, account)
            balance = cash.balance(session, account)
        received: dict[tuple[int, int], dict[str, int]] = {}
        for e in entries:
            if e.kind in ("interest", "principal"):
                bucket = received.setdefault((e.product_id, e.tranche_idx), {"interest": 0, "principal": 0})
                bucket[e.kind] += e.amount
        positions = []
        for t in tranches:
            units = self.chain.balance_of(t.token, caller.address) if t.token else 0
            paid = received.get((t.product_id, t.idx), {"interest": 0, "principal": 0})
            if units or any(paid.values()):
                positions.append({"product_id": t.product_id, "tranche": t.idx, "symbol": t.symbol, "token": t.token,
                                  "units": units, "face_outstanding": units * t.outstanding // t.size,
                                  "interest_received": paid["interest"], "principal_received": paid["principal"]})
        return {"investor": caller.name, "address": caller.address, "positions": positions, "cash_balance": balance}

    def transactions_csv(self, caller: Caller) -> str:
        """The investor's orders and cash movements, oldest first, as CSV."""
        caller.require("INVESTOR")
        with Session(self.engine) as session:
            orders = session.exec(select(Subscription).where(Subscription.investor_address == caller.address)).all()
            entries = cash.entries_of(session, cash.investor_account(caller.address))
        rows = [(o.created_at, o.product_id, o.tranche_idx, "order", o.requested, 0, o.status,
                 f"subscription {o.id}" + (f": {o.reason}" if o.reason else ""), "") for o in orders]
        rows += [(e.created_at, e.product_id, e.tranche_idx, e.kind, e.units or "", e.amount, "",
                  _reference(e), e.tx_hash or "") for e in entries]
        rows.sort(key=lambda r: r[0])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow((row[0].isoformat(), *row[1:]))
        return out.getvalue()

    def _summary(self, session: Session, row: Product) -> dict:
        tranches = tranches_of(session, row.id)
        return {"product_id": row.id, "pack_id": row.pack_id, "financier": row.financier, "state": row.state,
                "book": row.book_state, "maturity": row.maturity, "payments_per_year": row.payments_per_year,
                "periods_distributed": row.periods_recorded, "listed_at": row.listed_at and row.listed_at.isoformat(),
                "total_size": sum(t.size for t in tranches),
                "tranches": [{"index": t.idx, "symbol": t.symbol, "size": t.size, "coupon_bps": t.coupon_bps}
                             for t in tranches]}


def _reference(entry: CashEntry) -> str:
    if entry.subscription_id is not None:
        return f"subscription {entry.subscription_id}"
    if entry.period is not None:
        return f"period {entry.period}"
    return entry.movement
