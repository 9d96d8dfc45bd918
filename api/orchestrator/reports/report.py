"""A pack's report as one JSON document: every step's result, both bad-rate estimates, the curve,
the level mix before and after, the removed and excluded assets with their reasons, and every
transaction that anchors it."""

from __future__ import annotations

from sqlmodel import Session, select

from api.db.bulk import as_bytes, select_rows
from api.errors import ConflictError
from api.orchestrator.models import ChainTx, Pack
from api.orchestrator.views import pack_view
from chain.leaves import to_hex32

LISTED = 100  # removed and excluded assets listed in the report; the CSV exports hold them all
EXPORTS = ("kept", "removed", "excluded")

ESTIMATES_NOTE = (
    "level-based: sum over levels of the level's historical bad rate x its weight (patent claim 6); "
    "pd-based: the weighted mean of each asset's own model PD. Removing assets changes the level "
    "weights, so the two can move differently: global filtering is judged by the level-based "
    "estimate, per-level filtering (the same riskiest share of every level, which keeps the level "
    "mix) by the PD-based one. The chain records before = the level-based grade, after = the judged estimate."
)


def _assets(session: Session, pack_id: int, outcome: str, order: str) -> list[dict]:
    rows = select_rows(
        session,
        "SELECT a.row_no, a.loan_id, a.borrower_id, a.outstanding_balance_minor, s.score, s.level, s.pd_ppm, "
        "o.removal_rank, o.reason, a.asset_id FROM asset_outcome o JOIN asset a ON a.pack_id = o.pack_id "
        "AND a.row_no = o.row_no LEFT JOIN asset_score s ON s.pack_id = o.pack_id AND s.row_no = o.row_no "
        f"WHERE o.pack_id = :p AND o.outcome = :o ORDER BY {order} LIMIT {LISTED}",
        {"p": pack_id, "o": outcome},
    )
    keys = ("row", "loan_id", "borrower_id", "outstanding_balance_minor", "score", "level", "pd_ppm",
            "removal_rank", "reason", "asset_id")
    listed = []
    for row in rows:
        item = dict(zip(keys, row))
        item["outstanding_balance_minor"] = str(item["outstanding_balance_minor"])
        item["asset_id"] = to_hex32(as_bytes(item["asset_id"]))
        listed.append(item)
    return listed


def build_report(session: Session, pack: Pack, base_url: str = "") -> dict:
    if pack.filter_plan is None:
        raise ConflictError(f"pack {pack.id} has no report yet: it is at step {pack.step} ({pack.status})")
    plan = pack.filter_plan
    txs = session.exec(select(ChainTx).where(ChainTx.pack_id == pack.id).order_by(ChainTx.id)).all()
    excluded_count = pack.credit_summary["excluded_count"]
    links = {f"{name}_csv": f"{base_url}/v1/packs/{pack.id}/export/{name}.csv" for name in EXPORTS}
    for chart in ("bad_rate_curve", "level_mix", "removals"):
        for fmt in ("png", "svg"):
            links[f"{chart}_{fmt}"] = f"{base_url}/v1/packs/{pack.id}/charts/{chart}.{fmt}"
    links["html"] = f"{base_url}/v1/packs/{pack.id}/report.html"
    return {
        "pack": pack_view(pack).model_dump(mode="json"),
        "model": pack.score_summary,
        "credit_check": pack.credit_summary,
        "grade": pack.grade,
        "filter": plan,
        "estimates_note": ESTIMATES_NOTE,
        "commitment": {
            "chain_pack_id": pack.chain_pack_id,
            "state": pack.chain_state,
            "kept_root": plan["kept_root"],
            "removed_root": plan["removed_root"],
            "excluded_root": pack.credit_summary["excluded_root"],
            "kept_count": plan["kept_count"],
            "removed_count": plan["removed_count"],
            "excluded_count": excluded_count,
            "kept_balance": plan["kept_balance"],
            "removed_balance": plan["removed_balance"],
            "bad_rate_before_ppm": plan["chain_bad_rate_before_ppm"],
            "bad_rate_after_ppm": plan["chain_bad_rate_after_ppm"],
            "expected_bad_rate_ppm": pack.expected_bad_rate_ppm,
            "mode": plan["mode"],
            "weight_by": plan["weight_by"],
            "model_id": pack.model_id,
        },
        "removed_assets": {"count": plan["removed_count"], "listed": _assets(session, pack.id, "removed",
                                                                            "o.removal_rank")},
        "excluded_assets": {"count": excluded_count, "listed": _assets(session, pack.id, "excluded", "o.row_no")},
        "transactions": [{"step": tx.step, "tx_hash": tx.tx_hash, "block_number": tx.block_number,
                          "sender": tx.sender, "events": tx.events} for tx in txs],
        "links": links,
    }
