"""Asset replacement: a financier swaps risky assets of a monitored product for substitutes.

Each substitute is validated like a pack's asset, must not be held by any live pack, passes
the credit check against the bureau's on-chain commitment and is scored by the product's
model. ``scoring.monitoring.replacement.evaluate_swap`` then decides: the product's level-based
bad rate after the swap must stay within its expected bad rate, and the substitutes' balance
must match the replaced assets' within ``balance_tolerance_ppm`` (2% by default, so a swap
cannot quietly shrink or inflate the pool investors hold). A refusal lists every problem
(loan, field, problem) and writes nothing but the refusal itself.

An accepted swap records on chain the pool's new root, the root of the assets that left and of
those that came in, and one (old asset, new asset, cycle) pair per swap, so both the old
asset's removal and the new asset's inclusion are provable.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.db.bulk import insert_columns
from api.errors import ConflictError, InvalidInputError
from api.monitoring import holdings as store
from api.monitoring.enrol import verified_records, vintage_of
from api.monitoring.models import LIVE, MONTHLY, REPLACED, Measure, MonitoredProduct, Replacement
from api.monitoring.tree import pool_tree
from api.orchestrator.submission.hashing import hash_assets
from api.orchestrator.submission.parse import json_columns
from api.orchestrator.submission.problems import ProblemCollector
from api.orchestrator.submission.validate import check_columns
from chain.leaves import from_hex32
from scoring.monitoring.replacement import Candidate, Holding, evaluate_swap
from scoring.monitoring.reminders import Cadence, next_due
from scoring.bad_rate import WeightBy

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _body_swaps(body: dict) -> list[dict]:
    swaps = body.get("swaps")
    if not isinstance(swaps, list) or not swaps:
        raise InvalidInputError("swaps: a non-empty list of {out_loan_id, in} is required")
    for number, swap in enumerate(swaps, start=1):
        if not isinstance(swap, dict) or not isinstance(swap.get("out_loan_id"), str) or not isinstance(swap.get("in"), dict):
            raise InvalidInputError(f"swaps[{number}]: needs out_loan_id (text) and in (a loan object)",
                                    details={"problems": [{"row": number, "field": "swaps", "problem": "malformed"}]})
    return swaps


def _existing(service: MonitoringService, product_id: int, key: str, digest: str) -> Replacement | None:
    with Session(service.o.engine, expire_on_commit=False) as session:
        found = session.exec(select(Replacement).where(Replacement.product_id == product_id,
                                                       Replacement.idempotency_key == key)).first()
    if found is not None and found.request_hash != digest:
        raise ConflictError(f"Idempotency-Key {key!r} was used for another replacement request of product {product_id}")
    return found


def propose(service: MonitoringService, product: MonitoredProduct, key: str, body: dict) -> Replacement:
    if not key or len(key) > 200:
        raise InvalidInputError("the Idempotency-Key header is required (1-200 characters)")
    digest = request_hash(body)
    found = _existing(service, product.product_id, key, digest)
    if found is not None and (found.status == "refused" or found.chain_replacement_id is not None):
        return found
    swaps = _body_swaps(body)
    o = service.o
    problems = ProblemCollector(o.settings.max_error_rows)
    raw, count = json_columns([swap["in"] for swap in swaps], problems, len(swaps))
    today = max(date.today(), _cycle_day(service, product))  # a simulated product's today is its world's
    assets = check_columns(raw, count, problems, today) if count else None
    if assets is None:
        raise problems.refusal("json")
    hashes = hash_assets(assets)
    model = o.models.load(product.model_id)
    cycle = product.cycles_done
    with Session(o.engine) as session:
        holdings = store.load_holdings(session, product.product_id)
    records, credit_problems = verified_records(o, assets.borrower_id.to_pylist(), today)
    scored: dict[str, tuple[int, int, int]] = {}
    if len(records):
        fresh = model.score(records)
        for i, borrower in enumerate(records["borrower_id"]):
            scored[borrower] = (int(fresh.scores[i]), int(fresh.levels[i]), int(fresh.pd_ppm[i]))
    live = store.live(holdings)
    held = [Holding(loan_id=r.loan_id, level=int(r.level), balance_minor=int(r.balance_minor))
            for r in live.itertuples(index=False)]
    candidates = []
    borrowers = assets.borrower_id.to_pylist()
    for i, loan in enumerate(assets.loan_id.to_pylist()):
        borrower = borrowers[i]
        level = scored[borrower][1] if borrower in scored else None
        problem = None if borrower in scored else (credit_problems.get(borrower) or "no_record")
        if loan in set(holdings["loan_id"]):
            problem = problem or "already_in_pool"
        candidates.append(Candidate(loan_id=loan, level=level, balance_minor=int(assets.outstanding_balance_minor[i]),
                                    problem=problem))
    out_ids = [swap["out_loan_id"] for swap in swaps]
    decision = evaluate_swap(held, out_ids, candidates, table=model.level_table,
                             expected_bad_rate_ppm=product.expected_bad_rate_ppm, weight_by=WeightBy(product.weight_by),
                             balance_tolerance_ppm=service.settings.balance_tolerance_ppm)
    decided = {
        "accepted": decision.accepted, "bad_rate_before_ppm": decision.bad_rate_before_ppm,
        "bad_rate_after_ppm": decision.bad_rate_after_ppm, "expected_bad_rate_ppm": product.expected_bad_rate_ppm,
        "balance_out_minor": decision.balance_out_minor, "balance_in_minor": decision.balance_in_minor,
        "balance_tolerance_ppm": service.settings.balance_tolerance_ppm,
        "problems": [p.__dict__ for p in decision.problems],
    }
    swap_rows = []
    loan_ids, originated = assets.loan_id.to_pylist(), assets.origination_date.to_pylist()
    for i, swap in enumerate(swaps):
        borrower = borrowers[i]
        score, level, pd_ppm = scored.get(borrower, (None, None, None))
        swap_rows.append({"out_loan_id": swap["out_loan_id"], "in": {**swap["in"], "loan_id": loan_ids[i]},
                          "asset_id": "0x" + bytes(hashes.asset_ids[i]).hex(),
                          "record_hash": "0x" + bytes(hashes.record_hashes[i]).hex(), "score": score, "level": level,
                          "pd_ppm": pd_ppm, "vintage": vintage_of(originated[i])})
    measure_id = body.get("measure_id")
    row = found or Replacement(product_id=product.product_id, cycle=cycle, measure_id=measure_id, idempotency_key=key,
                               request_hash=digest, status="accepted" if decision.accepted else "refused",
                               decision=decided, swaps=swap_rows)
    if not decision.accepted:
        with Session(o.engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
        raise InvalidInputError(f"replacement refused: {len(decision.problems)} problem(s)",
                                details={"replacement_id": row.id, **decided})
    return _commit(service, product, row, holdings)


def _cycle_day(service: MonitoringService, product: MonitoredProduct) -> date:
    from api.monitoring.cycle import cycle_date

    return cycle_date(product, product.cycles_done)


def _commit(service: MonitoringService, product: MonitoredProduct, row: Replacement, holdings: Any) -> Replacement:
    o = service.o
    out = {swap["out_loan_id"] for swap in row.swaps}
    kept = store.pool(holdings)
    kept = kept[~kept["loan_id"].isin(out)]
    leaving = holdings[holdings["loan_id"].isin(out)]
    ins = row.swaps

    def leaves(frame: Any) -> tuple:
        return (list(frame["asset_id"]), list(frame["record_hash"]), list(frame["entry_score"]), list(frame["entry_level"]))

    new_ids = [from_hex32(s["asset_id"]) for s in ins]
    new_hashes = [from_hex32(s["record_hash"]) for s in ins]
    ids, record_hashes, scores, levels = leaves(kept)
    new_tree = pool_tree(ids + new_ids, record_hashes + new_hashes, scores + [s["score"] for s in ins],
                         levels + [s["level"] for s in ins])
    out_tree = pool_tree(*leaves(leaving))
    in_tree = pool_tree(new_ids, new_hashes, [s["score"] for s in ins], [s["level"] for s in ins])
    previous = row.previous_root or service.chain.current_root(product.chain_pack_id)  # a resumed swap keeps its roots
    row.previous_root, row.new_root, row.out_root, row.in_root = previous, new_tree.root, out_tree.root, in_tree.root
    measure_chain_id = 0
    with Session(o.engine, expire_on_commit=False) as session:
        if row.measure_id is not None:
            measure = session.get(Measure, row.measure_id)
            if measure is None or measure.product_id != product.product_id or measure.kind != "replacement_instruction":
                raise InvalidInputError(f"measure_id {row.measure_id} is not a replacement instruction of this product")
            measure_chain_id = measure.chain_measure_id or 0
        if row.id is None:  # a resumed swap stored its row and claims before its chain write
            try:
                session.add(row)
                session.flush()
                n = len(ins)
                insert_columns(session, "loan_claim", {"loan_id": [s["in"]["loan_id"] for s in ins],
                                                       "pack_id": np.full(n, product.pack_id, dtype=np.int64),
                                                       "row_no": np.zeros(n, dtype=np.int64)})
                session.commit()
            except IntegrityError:
                session.rollback()
                raise ConflictError("a substitute loan id is already held by a live pack") from None
    old_ids = [bytes(v) for v in leaving.set_index("loan_id").loc[[s["out_loan_id"] for s in ins], "asset_id"]]
    sent = service.chain.record_replacement(
        service.scorer, product.chain_pack_id, product.cycles_done, measure_chain_id, previous_root=previous,
        new_root=new_tree.root, out_root=out_tree.root, in_root=in_tree.root, old_asset_ids=old_ids,
        new_asset_ids=new_ids)
    first = next_due(max(date.today(), _cycle_day(service, product)), Cadence.MONTHLY)
    with Session(o.engine, expire_on_commit=False) as session:
        stored = session.get(Replacement, row.id)
        stored.chain_replacement_id, stored.tx_hash = sent.value, sent.tx_hash
        store.update_holdings(session, product.product_id, [s["out_loan_id"] for s in ins],
                              status=[REPLACED] * len(ins), status_cycle=[product.cycles_done] * len(ins))
        n = len(ins)
        insert_columns(session, "holding", {
            "product_id": np.full(n, product.product_id, dtype=np.int64), "loan_id": [s["in"]["loan_id"] for s in ins],
            "borrower_id": [s["in"]["borrower_id"] for s in ins], "asset_id": new_ids, "record_hash": new_hashes,
            "entry_cycle": np.full(n, product.cycles_done, dtype=np.int64), "entry_score": [s["score"] for s in ins],
            "entry_level": [s["level"] for s in ins], "entry_pd_ppm": [s["pd_ppm"] for s in ins],
            "vintage": [s["vintage"] for s in ins], "balance_minor": [int(s["in"]["outstanding_balance_minor"]) for s in ins],
            "status": [LIVE] * n, "status_cycle": [None] * n, "score": [s["score"] for s in ins],
            "level": [s["level"] for s in ins], "pd_ppm": [s["pd_ppm"] for s in ins],
            "collateral_ids": [";".join(s["in"].get("collateral_ids") or []) if isinstance(s["in"].get("collateral_ids"), list)
                               else (s["in"].get("collateral_ids") or "") for s in ins],
            "cadence": [MONTHLY] * n, "next_reminder": [first] * n, "last_reminder": [None] * n,
        })
        session.add(stored)
        session.commit()
    if stored.measure_id is not None:
        from api.monitoring.measures import close_if_replaced

        close_if_replaced(service, product, stored.measure_id)
    return stored
