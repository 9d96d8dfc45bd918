"""Enrolment: an issued product enters monitoring with its kept assets as holdings.

The holdings are rebuilt from the orchestrator's tables and checked against the chain: the
pack-asset tree of the kept assets must give the kept root the product was issued with, or
enrolment refuses (the database no longer matches what investors bought). The baseline for
stability (score bins and feature bins) is taken from the issuance scores and the borrowers'
verified bureau records on the start date. The pack moves to Monitoring on chain.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from api.db.bulk import as_bytes, insert_columns, select_rows
from api.errors import ConflictError, NotFoundError
from api.monitoring.chain_port import MonitorChain
from api.monitoring.models import MONTHLY, Holding, MonitoredProduct
from api.monitoring.tree import pack_root
from api.orchestrator.models import Pack
from api.orchestrator.wiring import Orchestrator
from chain.roles import Role
from scoring.data.schema import CREDIT_FEATURES
from scoring.monitoring.baseline import baseline_of
from scoring.monitoring.reminders import Cadence, next_due

KEPT_SQL = (
    "SELECT a.loan_id, a.borrower_id, a.asset_id, a.record_hash, s.score, s.level, s.pd_ppm, a.origination_date, "
    "a.outstanding_balance_minor, a.collateral_ids FROM asset a "
    "JOIN asset_outcome o ON o.pack_id = a.pack_id AND o.row_no = a.row_no "
    "JOIN asset_score s ON s.pack_id = a.pack_id AND s.row_no = a.row_no "
    "WHERE a.pack_id = :p AND o.outcome = 'kept' ORDER BY a.row_no"
)


def vintage_of(origination: date | str) -> str:
    day = date.fromisoformat(origination) if isinstance(origination, str) else origination
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def verified_records(o: Orchestrator, borrower_ids: list[str], today: date) -> tuple[pd.DataFrame, dict[str, str]]:
    """The borrowers' bureau records that pass verification (as a frame), and why the others did not.

    Column-wise (``check_columns``): the verified records come as one typed table, not one
    decoded dict per borrower.
    """
    credit = o.credit.check_columns(list(dict.fromkeys(borrower_ids)), today=today)
    usable = credit.eligible & credit.verified
    problems = {credit.borrower_id[i]: credit.reason[i] or "not_eligible" for i in np.flatnonzero(~usable).tolist()}
    good = np.flatnonzero(usable)
    frame = credit.records_of(good) if good.size else pd.DataFrame(columns=["borrower_id"])
    return frame, problems


def enrol(o: Orchestrator, chain: MonitorChain, product_id: int, *, start_date: date | None = None,
          simulation: dict | None = None) -> MonitoredProduct:
    with Session(o.engine, expire_on_commit=False) as session:
        existing = session.get(MonitoredProduct, product_id)
        if existing is not None:
            return existing
    product = chain.product(product_id)
    if not product.listed:
        raise ConflictError(f"product {product_id} is not listed yet; monitoring starts after issuance")
    with Session(o.engine, expire_on_commit=False) as session:
        pack = session.exec(select(Pack).where(Pack.chain_pack_id == product.chain_pack_id)).first()
        if pack is None:
            raise NotFoundError(f"product {product_id}'s pack {product.chain_pack_id} is not in this database")
        rows = select_rows(session, KEPT_SQL, {"p": pack.id})
    if len(rows) != product.kept_count:
        raise ConflictError(f"the database holds {len(rows)} kept assets of pack {pack.id}; product {product_id} "
                            f"was issued with {product.kept_count}")
    loan, borrower, asset_id, record_hash, score, level, pd_ppm, origination, balance, collateral = map(list, zip(*rows))
    asset_id, record_hash = [as_bytes(v) for v in asset_id], [as_bytes(v) for v in record_hash]
    root = pack_root(asset_id, record_hash, score, level)
    if root != product.kept_root:
        raise ConflictError(f"the kept assets in the database give root {root}, product {product_id} was issued "
                            f"with {product.kept_root}: refusing to monitor a pool that differs from the chain's")
    start = start_date or datetime.fromtimestamp(product.listed_at, timezone.utc).date()
    # The records the pack was scored on (a simulated chain may run ahead of the calendar).
    records, _problems = verified_records(o, borrower, min(start, date.today()))
    baseline = baseline_of(np.asarray(score, dtype=np.int64), records, [f for f in CREDIT_FEATURES if f in records])
    model = o.models.load(product.model_id)
    scorer = o.platform.sender(o.platform.member_with(Role.SCORER))
    chain.start_monitoring(scorer, product.chain_pack_id)
    first_reminder = next_due(start, Cadence.MONTHLY)
    n = len(loan)
    with Session(o.engine, expire_on_commit=False) as session:
        if session.get(MonitoredProduct, product_id) is not None:  # a concurrent enrolment won
            return session.get(MonitoredProduct, product_id)
        row = MonitoredProduct(
            product_id=product_id, pack_id=pack.id, chain_pack_id=product.chain_pack_id, model_id=model.model_id,
            expected_bad_rate_ppm=pack.expected_bad_rate_ppm, weight_by=pack.weight_by,
            financier_name=pack.financier_name, exchange_address=product.exchange, start_date=start,
            baseline=baseline.to_dict(), simulation=simulation,
        )
        session.add(row)
        stored_pack = session.get(Pack, pack.id)
        stored_pack.chain_state = "Monitoring"  # as on chain now: investors and the exchange see the pack
        session.add(stored_pack)
        session.flush()
        insert_columns(session, Holding.__tablename__, {
            "product_id": np.full(n, product_id, dtype=np.int64), "loan_id": loan, "borrower_id": borrower,
            "asset_id": asset_id, "record_hash": record_hash, "entry_cycle": np.zeros(n, dtype=np.int64),
            "entry_score": score, "entry_level": level, "entry_pd_ppm": pd_ppm,
            "vintage": [vintage_of(d) for d in origination], "balance_minor": balance,
            "status": ["live"] * n, "status_cycle": [None] * n, "score": score, "level": level, "pd_ppm": pd_ppm,
            "collateral_ids": [c or "" for c in collateral], "cadence": [MONTHLY] * n,
            "next_reminder": [first_reminder] * n, "last_reminder": [None] * n,
        })
        session.commit()
        return row
