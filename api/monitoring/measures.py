"""Triggers and measures: what a cycle's findings set off, and how earlier measures end.

Review first (``review``): a weekly-reminder measure hands each loan back to the monthly
schedule once it is out of the trigger's levels or no longer live, and is done when none is
left; a replacement instruction is done once every asset it names was replaced or has left the
pool, and escalates when its deadline passes first: its status changes on chain and the
exchange and the product's investors get a notice.

Then the rules (``scoring.monitoring.triggers``) run on the cycle's facts. Each firing is
stored with its evidence, its keccak256 goes on chain (once per rule and cycle), and each
firing with affected assets opens (a) weekly reminders for the affected borrowers not already
on a weekly schedule and (b) a replacement instruction for the affected assets not already
named by an open one, each recorded on chain with its subjects' Merkle root and its deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlmodel import Session, select
from web3 import Web3

from api.monitoring import holdings as store
from api.monitoring.cycle import now_for, save_cycle
from api.monitoring.models import LIVE, MONTHLY, WEEKLY, Measure, MonitoredProduct, MonitoringCycle, MonitoringTrigger
from api.monitoring.outbox import add_notice
from api.monitoring.tree import subject_tree
from api.orchestrator.models import utcnow
from chain.leaves import asset_id
from scoring.monitoring.triggers import AssetState, CycleFacts, Firing, evaluate, evidence_json

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService

REMINDERS, REPLACEMENT = "weekly_reminders", "replacement_instruction"
RISKY_LEVEL_MAX = 3


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _measures(session: Session, product_id: int, kind: str, statuses: tuple[str, ...]) -> list[Measure]:
    return list(session.exec(select(Measure).where(Measure.product_id == product_id, Measure.kind == kind,
                                                   Measure.status.in_(statuses))).all())


def _set_status(service: MonitoringService, measure: Measure, status: str, now: datetime) -> None:
    if measure.chain_measure_id is not None:
        sent = service.chain.set_measure_status(service.scorer, measure.chain_measure_id, status)
        measure.tx_hashes = {**(measure.tx_hashes or {}), status: sent.tx_hash}
    measure.status = status
    if status == "escalated":
        measure.escalated_at = now
    else:
        measure.closed_at = now


def review(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    now = now_for(row)
    with Session(service.o.engine, expire_on_commit=False) as session:
        holdings = store.load_holdings(session, product.product_id).set_index("loan_id")
        for measure in _measures(session, product.product_id, REMINDERS, ("open",)):
            if measure.cycle >= row.cycle:
                continue
            at_risk = [loan for loan in measure.loan_ids
                       if holdings.at[loan, "status"] == LIVE and holdings.at[loan, "level"] <= RISKY_LEVEL_MAX]
            back = [loan for loan in measure.loan_ids if loan not in set(at_risk)
                    and holdings.at[loan, "cadence"] == WEEKLY]
            store.update_holdings(session, product.product_id, back, cadence=[MONTHLY] * len(back))
            if not at_risk:
                _set_status(service, measure, "done", now)
            session.add(measure)
        for measure in _measures(session, product.product_id, REPLACEMENT, ("open", "escalated")):
            outstanding = [loan for loan in measure.loan_ids if holdings.at[loan, "status"] == LIVE]
            if not outstanding:
                _set_status(service, measure, "done", now)
            elif measure.status == "open" and _aware(measure.deadline) < now:
                _set_status(service, measure, "escalated", now)
                body = {"product_id": product.product_id, "measure_id": measure.id, "cycle": measure.cycle,
                        "deadline": measure.deadline.isoformat(), "outstanding_loans": outstanding}
                for channel, recipient in (("webhook", f"exchange:{product.exchange_address}"),
                                           ("email", f"investors:product-{product.product_id}"),
                                           ("email", f"financier:{product.financier_name}")):
                    add_notice(session, product.product_id, channel=channel, recipient=recipient, kind="escalation",
                               subject=f"measure-{measure.id}", due_on=row.as_of, body=body)
            session.add(measure)
        session.commit()
    return save_cycle(service, product.product_id, row.cycle, step="reviewed")


def close_if_replaced(service: MonitoringService, product: MonitoredProduct, measure_id: int) -> None:
    """A replacement instruction whose every named asset has left the pool is done (on chain too)."""
    with Session(service.o.engine, expire_on_commit=False) as session:
        measure = session.get(Measure, measure_id)
        if measure is None or measure.kind != REPLACEMENT or measure.status not in ("open", "escalated"):
            return
        holdings = store.load_holdings(session, product.product_id).set_index("loan_id")
        if all(holdings.at[loan, "status"] != LIVE for loan in measure.loan_ids):
            _set_status(service, measure, "done", datetime.now(timezone.utc))
            session.add(measure)
            session.commit()


def cycle_facts(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> CycleFacts:
    with Session(service.o.engine) as session:
        live = store.live(store.load_holdings(session, product.product_id))
        previous = session.get(MonitoringCycle, (product.product_id, row.cycle - 1))
    # IoT warnings carry the IoT service's wall-clock time: those raised since the last cycle ran.
    since = _aware(previous.updated_at if previous is not None else product.created_at)
    since_ms = int(since.timestamp() * 1000)
    warnings = service.warnings.warnings(live["loan_id"].tolist(), since_ms)
    assets = [AssetState(loan_id=r.loan_id, borrower_id=r.borrower_id, level=int(r.level), balance_minor=int(r.balance_minor))
              for r in live.itertuples(index=False)]
    summary = row.summary
    return CycleFacts(product_id=product.product_id, cycle=row.cycle, assets=assets, bad_rate_ppm=summary["bad_rate_ppm"],
                      expected_bad_rate_ppm=product.expected_bad_rate_ppm, psi=summary["psi"], iot_warnings=warnings)


def fire(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    """Evaluate the rules once (the firings are stored before anything goes on chain)."""
    if row.firings is None:
        firings = evaluate(service.rules, cycle_facts(service, product, row))
        stored = [{"rule_id": f.rule_id, "kind": f.kind, "evidence": f.evidence,
                   "evidence_hash": Web3.to_hex(Web3.keccak(evidence_json(f))),
                   "loan_ids": list(f.affected_loan_ids)} for f in firings]
        with Session(service.o.engine, expire_on_commit=False) as session:
            for firing in stored:
                session.add(MonitoringTrigger(product_id=product.product_id, cycle=row.cycle, rule_id=firing["rule_id"],
                                              kind=firing["kind"], evidence=firing["evidence"],
                                              evidence_hash=firing["evidence_hash"], loan_ids=firing["loan_ids"]))
            cycle = session.get(MonitoringCycle, (product.product_id, row.cycle))
            cycle.firings, cycle.updated_at = stored, utcnow()
            session.add(cycle)
            session.commit()
            row = cycle
    for firing in row.firings:
        sent = service.chain.record_trigger(service.scorer, product.chain_pack_id, row.cycle, firing["rule_id"],
                                            Web3.to_bytes(hexstr=firing["evidence_hash"]))
        if sent.tx_hash:
            with Session(service.o.engine) as session:
                trigger = session.exec(select(MonitoringTrigger).where(
                    MonitoringTrigger.product_id == product.product_id, MonitoringTrigger.cycle == row.cycle,
                    MonitoringTrigger.rule_id == firing["rule_id"])).one()
                trigger.tx_hash = sent.tx_hash
                session.add(trigger)
                session.commit()
        for kind in (REMINDERS, REPLACEMENT):
            take_measure(service, product, row, firing, kind)
    return save_cycle(service, product.product_id, row.cycle, step="measured")


def _subjects(session: Session, product: MonitoredProduct, firing: dict, kind: str) -> list[str]:
    holdings = store.load_holdings(session, product.product_id).set_index("loan_id")
    candidates = [loan for loan in firing["loan_ids"] if loan in holdings.index and holdings.at[loan, "status"] == LIVE]
    if kind == REMINDERS:
        return [loan for loan in candidates if holdings.at[loan, "cadence"] != WEEKLY]
    named = {loan for m in _measures(session, product.product_id, REPLACEMENT, ("open", "escalated"))
             for loan in m.loan_ids}
    return [loan for loan in candidates if loan not in named]


def take_measure(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle, firing: dict,
                 kind: str) -> None:
    settings = service.settings
    with Session(service.o.engine, expire_on_commit=False) as session:
        measure = session.exec(select(Measure).where(Measure.product_id == product.product_id, Measure.cycle == row.cycle,
                                                     Measure.kind == kind, Measure.rule_id == firing["rule_id"])).first()
        if measure is None:
            loans = _subjects(session, product, firing, kind)
            if not loans:
                return
            days = settings.reminder_review_days if kind == REMINDERS else settings.replacement_deadline_days
            start = now_for(row)
            deadline = datetime(row.as_of.year, row.as_of.month, row.as_of.day, tzinfo=timezone.utc) + timedelta(days=days)
            if deadline <= datetime.now(timezone.utc):  # a late cycle: the measure still gets its full term
                deadline = start + timedelta(days=days)
            root = subject_tree([asset_id(loan) for loan in loans]).root
            measure = Measure(product_id=product.product_id, cycle=row.cycle, kind=kind, rule_id=firing["rule_id"],
                              deadline=deadline, subject_root=root, loan_ids=loans)
            session.add(measure)
            session.commit()
    if measure.chain_measure_id is None:
        sent = service.chain.open_measure(service.scorer, product.chain_pack_id, row.cycle, kind, measure.rule_id,
                                          measure.subject_root, len(measure.loan_ids),
                                          int(_aware(measure.deadline).timestamp()))
        _apply(service, product, row, measure, sent)


def _apply(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle, measure: Measure, sent) -> None:
    """Store the chain's measure id and carry the measure out off chain, in one transaction."""
    with Session(service.o.engine, expire_on_commit=False) as session:
        stored = session.get(Measure, measure.id)
        stored.chain_measure_id = sent.value
        stored.tx_hashes = {**(stored.tx_hashes or {}), "opened": sent.tx_hash}
        loans = list(stored.loan_ids)
        if stored.kind == REMINDERS:
            holdings = store.load_holdings(session, product.product_id).set_index("loan_id")
            soon = row.as_of + timedelta(days=7)
            due = [min(holdings.at[loan, "next_reminder"], soon) for loan in loans]
            store.update_holdings(session, product.product_id, loans, cadence=[WEEKLY] * len(loans), next_reminder=due)
        else:
            body = {"product_id": product.product_id, "measure_id": stored.id, "cycle": row.cycle,
                    "rule_id": stored.rule_id, "deadline": _aware(stored.deadline).isoformat(), "loan_ids": loans}
            add_notice(session, product.product_id, channel="email", recipient=f"financier:{product.financier_name}",
                       kind="replacement_instruction", subject=f"measure-{stored.id}", due_on=row.as_of, body=body)
        session.add(stored)
        session.commit()


__all__ = ["Firing", "fire", "review", "take_measure"]
