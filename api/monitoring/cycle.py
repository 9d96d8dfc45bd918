"""One monitoring cycle of one product (patent claim 7), resumable step by step.

``started``: every live asset is re-scored from its borrower's fresh bureau record, verified
against the bureau's on-chain commitment as in the credit check (an asset whose fresh record
is missing or fails verification keeps its last score, and the reason is stored); the cycle's
findings (level mix, bad rates, PSI/CSI, backtest) are computed and stored with the scores.
``scored``: the cycle's score root goes to the ScoreRegistry as batch (pack, cycle).
``published``: the cycle's report goes to PackMonitor. ``recorded``: earlier measures are
reviewed, then the trigger rules run and their measures are taken (``measures``).
``reviewed``/``measured``: repayment reminders fall due into the outbox and it is dispatched.
Each step stores its result before its chain write, and every chain write first checks the
chain, so a cycle resumed after a crash anywhere records nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlmodel import Session

from api.errors import ConflictError, NotFoundError
from api.monitoring import holdings as store
from api.monitoring.assess import assess, cycle_report
from api.monitoring.enrol import verified_records
from api.monitoring.models import MonitoredProduct, MonitoringCycle
from api.orchestrator.models import utcnow
from api.services.score_batches import publish_scores
from scoring.monitoring.baseline import Baseline
from scoring.monitoring.reminders import add_months

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService


def cycle_date(product: MonitoredProduct, cycle: int) -> date:
    return add_months(product.start_date, cycle)


def save_cycle(service: MonitoringService, product_id: int, cycle: int, **changes: Any) -> MonitoringCycle:
    with Session(service.o.engine, expire_on_commit=False) as session:
        row = session.get(MonitoringCycle, (product_id, cycle))
        assert row is not None
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        session.add(row)
        session.commit()
        return row


def open_cycle(service: MonitoringService, product: MonitoredProduct, as_of: date | None) -> MonitoringCycle:
    """The product's unfinished cycle, or its next one dated ``as_of`` (default: start + k months)."""
    with Session(service.o.engine, expire_on_commit=False) as session:
        cycle = product.cycles_done + 1
        row = session.get(MonitoringCycle, (product.product_id, cycle))
        if row is not None:
            return row
        day = as_of or cycle_date(product, cycle)
        previous = session.get(MonitoringCycle, (product.product_id, cycle - 1))
        earliest = previous.as_of if previous is not None else product.start_date
        if day <= earliest:
            raise ConflictError(f"cycle {cycle} of product {product.product_id} must be dated after {earliest}, "
                                f"got {day}")
        row = MonitoringCycle(product_id=product.product_id, cycle=cycle, as_of=day)
        session.add(row)
        session.commit()
        return row


def score_step(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    o = service.o
    model = o.models.load(product.model_id)
    with Session(o.engine) as session:
        holdings = store.load_holdings(session, product.product_id)
    live = store.live(holdings).copy()
    if live.empty:
        raise ConflictError(f"product {product.product_id} has no live asset left to monitor")
    records, problems = verified_records(o, live["borrower_id"].tolist(), row.as_of)
    scores, levels, pd_ppm = (live[name].to_numpy(dtype=np.int64).copy() for name in ("score", "level", "pd_ppm"))
    reasons: list[str | None] = [problems.get(b) for b in live["borrower_id"]]
    if len(records):
        fresh = model.score(records)
        by_borrower = {b: i for i, b in enumerate(records["borrower_id"])}
        position = np.array([by_borrower.get(b, -1) for b in live["borrower_id"]])
        found = position >= 0
        scores[found] = np.asarray(fresh.scores, dtype=np.int64)[position[found]]
        levels[found] = np.asarray(fresh.levels, dtype=np.int64)[position[found]]
        pd_ppm[found] = np.asarray(fresh.pd_ppm, dtype=np.int64)[position[found]]
    live["score"], live["level"], live["pd_ppm"] = scores, levels, pd_ppm
    summary = assess(cycle=row.cycle, holdings=holdings, live=live, records=records, table=model.level_table,
                     weight_by=product.weight_by, expected_bad_rate_ppm=product.expected_bad_rate_ppm,
                     baseline=Baseline.from_dict(product.baseline))
    summary["stale_or_unverified"] = int(sum(reason is not None for reason in reasons))
    summary["as_of"] = row.as_of.isoformat()
    loans = live["loan_id"].tolist()
    with Session(o.engine, expire_on_commit=False) as session:
        store.store_cycle_scores(session, product.product_id, row.cycle, loans, scores, levels, pd_ppm, reasons)
        store.update_holdings(session, product.product_id, loans, score=scores.tolist(), level=levels.tolist(),
                              pd_ppm=pd_ppm.tolist())
        cycle = session.get(MonitoringCycle, (product.product_id, row.cycle))
        cycle.summary, cycle.step, cycle.updated_at = summary, "scored", utcnow()
        session.add(cycle)
        session.commit()
        return cycle


def publish_step(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    o = service.o
    with Session(o.engine) as session:
        live = store.live(store.load_holdings(session, product.product_id))
    batch = publish_scores(
        service.scorer, o.platform.contract("ScoreRegistry"), pack_id=product.chain_pack_id, cycle=row.cycle,
        model_id=product.model_id, loan_ids=live["loan_id"].tolist(), scores=live["score"].to_numpy(dtype=np.int64),
        levels=live["level"].to_numpy(dtype=np.int64),
    )
    hashes = {**(row.tx_hashes or {}), "scores": batch.tx_hash}
    return save_cycle(service, product.product_id, row.cycle, score_batch_id=batch.batch_id, tx_hashes=hashes,
                 step="published")


def record_step(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    sent = service.chain.record_cycle(service.scorer, product.chain_pack_id, row.cycle,
                                      cycle_report(row.summary, row.score_batch_id))
    hashes = {**(row.tx_hashes or {}), "cycle": sent.tx_hash}
    return save_cycle(service, product.product_id, row.cycle, tx_hashes=hashes, step="recorded")


def finish(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    with Session(service.o.engine, expire_on_commit=False) as session:
        stored = session.get(MonitoredProduct, product.product_id)
        cycle = session.get(MonitoringCycle, (product.product_id, row.cycle))
        if stored is None or cycle is None:
            raise NotFoundError(f"product {product.product_id} cycle {row.cycle} vanished")
        stored.cycles_done, stored.updated_at = max(stored.cycles_done, row.cycle), utcnow()
        cycle.step, cycle.status, cycle.error, cycle.updated_at = "done", "done", None, utcnow()
        session.add(stored)
        session.add(cycle)
        session.commit()
        return cycle


def now_for(row: MonitoringCycle) -> datetime:
    """Monitoring's clock: real time, or the cycle's date when a simulation runs ahead of it."""
    dated = datetime(row.as_of.year, row.as_of.month, row.as_of.day, tzinfo=timezone.utc)
    return max(datetime.now(timezone.utc), dated)
