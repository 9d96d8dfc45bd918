"""What investors, the exchange, the financier and auditors see of a product's monitoring."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api.monitoring.models import Measure, MonitoredProduct, MonitoringCycle, MonitoringTrigger, Notice, Replacement


def product_view(product: MonitoredProduct, cycles: list[MonitoringCycle], measures: list[Measure]) -> dict:
    last = next((c for c in reversed(cycles) if c.status == "done"), None)
    open_measures = [m for m in measures if m.status in ("open", "escalated")]
    status = "escalated" if any(m.status == "escalated" for m in open_measures) else (
        "measures_open" if open_measures else "normal")
    return {
        "product_id": product.product_id, "pack_id": product.pack_id, "chain_pack_id": product.chain_pack_id,
        "model_id": product.model_id, "status": status, "monitoring": product.status,
        "start_date": product.start_date.isoformat(), "cycles_done": product.cycles_done,
        "expected_bad_rate_ppm": product.expected_bad_rate_ppm, "weight_by": product.weight_by,
        "simulated": product.simulation is not None,
        "latest_cycle": cycle_view(last) if last else None,
        "open_measures": [measure_view(m) for m in open_measures],
    }


def cycle_view(row: MonitoringCycle) -> dict:
    summary = row.summary or {}
    return {
        "cycle": row.cycle, "as_of": row.as_of.isoformat(), "step": row.step, "status": row.status, "error": row.error,
        "credit_batch_id": row.credit_batch_id, "score_batch_id": row.score_batch_id,
        "triggers": [{"rule_id": f["rule_id"], "kind": f["kind"], "affected": len(f["loan_ids"]),
                      "evidence_hash": f["evidence_hash"]} for f in row.firings or []],
        "tx_hashes": row.tx_hashes or {}, **summary,
    }


def measure_view(m: Measure) -> dict:
    return {"id": m.id, "chain_measure_id": m.chain_measure_id, "cycle": m.cycle, "kind": m.kind,
            "rule_id": m.rule_id, "status": m.status, "deadline": m.deadline.isoformat(), "subject_root": m.subject_root,
            "loan_count": len(m.loan_ids), "loan_ids": m.loan_ids,
            "escalated_at": m.escalated_at.isoformat() if m.escalated_at else None,
            "closed_at": m.closed_at.isoformat() if m.closed_at else None, "tx_hashes": m.tx_hashes or {}}


def replacement_view(r: Replacement) -> dict:
    return {"id": r.id, "cycle": r.cycle, "status": r.status, "measure_id": r.measure_id, "decision": r.decision,
            "swaps": [{k: v for k, v in s.items() if k != "in"} | {"in_loan_id": s["in"]["loan_id"]} for s in r.swaps],
            "previous_root": r.previous_root, "new_root": r.new_root, "out_root": r.out_root, "in_root": r.in_root,
            "chain_replacement_id": r.chain_replacement_id, "tx_hash": r.tx_hash}


def load(session: Session, model: Any, product_id: int, order: Any) -> list:
    return list(session.exec(select(model).where(model.product_id == product_id).order_by(order)).all())


def cycles(session: Session, product_id: int) -> list[MonitoringCycle]:
    return load(session, MonitoringCycle, product_id, MonitoringCycle.cycle)


def measures(session: Session, product_id: int) -> list[Measure]:
    return load(session, Measure, product_id, Measure.id)


def triggers(session: Session, product_id: int) -> list[MonitoringTrigger]:
    return load(session, MonitoringTrigger, product_id, MonitoringTrigger.id)


def replacements(session: Session, product_id: int) -> list[Replacement]:
    return load(session, Replacement, product_id, Replacement.id)


def notices(session: Session, product_id: int, *, kind: str | None, limit: int, offset: int) -> list[dict]:
    query = select(Notice).where(Notice.product_id == product_id)
    if kind:
        query = query.where(Notice.kind == kind)
    rows = session.exec(query.order_by(Notice.id).offset(offset).limit(limit)).all()
    return [{"id": n.id, "channel": n.channel, "recipient": n.recipient, "kind": n.kind, "subject": n.subject,
             "due_on": n.due_on.isoformat(), "status": n.status, "body": n.body} for n in rows]
