"""``audit db`` for the monitoring tables (orchestrator database) against PackMonitor's events, as
the replay keeps them (``chain.audit.monitoring_handlers``): monitored_product, monitoring_cycle
(the summary figures each cycle reported), cycle_score (the cycle's score root), monitoring_trigger
(the evidence hash, and the evidence itself re-hashed), measure (kind, status, subjects, deadline)
and replacement (roots). Holdings are checked through the pool's current root. Notices are
off-chain messages with nothing on chain to compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np
from web3 import Web3

from api.audit.db_bundles import matrix, small
from api.audit.db_context import DbContext, differs, row_name
from chain.audit.findings import Finding
from chain.audit.leafset import root_of, tree_of
from chain.leaves import PACK_ASSET_LEAF, SCORE_LEAF, asset_id
from scoring.monitoring.triggers import Firing, evidence_json

SUBJECT_LEAF = ("bytes32",)
RECORDED_STEPS = ("recorded", "reviewed", "measured", "done")  # a cycle at or past its PackMonitor record
CYCLE_FIELDS = (("level_counts", "level_counts"), ("level_balances", "level_balances"),
                ("bad_rate_ppm", "bad_rate_ppm"), ("realised_bad_rate_ppm", "realised_bad_rate_ppm"),
                ("psi_ppm", "psi_ppm"), ("live_count", "live_count"), ("live_balance_minor", "live_balance"))
EMPTY = {"cycles": {}, "triggers": [], "measures": {}, "replacements": {}, "current_root": None}


def rule_key(rule_id: str) -> str:
    """A rule's on-chain id: keccak256 of its name."""
    return Web3.to_hex(Web3.keccak(text=rule_id))


def compare_monitoring(ctx: DbContext) -> list[Finding]:
    if not ctx.has("monitored_product"):
        return []
    found: list[Finding] = []
    for product in ctx.rows("monitored_product", ("product_id",)):
        subject = row_name("monitored_product", product, "product_id")
        chain = ctx.state.products.get(product["product_id"])
        if chain is None:
            found.append(Finding("db", subject, "product_id", None, product["product_id"], "no such product on chain"))
            continue
        found += differs(subject, "chain_pack_id", chain.pack_id, product["chain_pack_id"])
        found += differs(subject, "model_id", chain.model_id, product["model_id"])
        pack = ctx.state.packs.get(chain.pack_id)
        if pack is not None:
            found += differs(subject, "expected_bad_rate_ppm", pack.expected_bad_rate_ppm,
                             product["expected_bad_rate_ppm"])
        monitor = ctx.state.extra.get("monitoring", {}).get(chain.pack_id, EMPTY)
        found += _cycles(ctx, product, chain.pack_id, monitor)
        found += _triggers(ctx, product, monitor)
        found += _measures(ctx, product, monitor)
        found += _replacements(ctx, product, monitor, chain.kept_root)
    return found


def _of(ctx: DbContext, table: str, product_id: int, order: tuple[str, ...]) -> list[Mapping[str, Any]]:
    if not ctx.has(table):
        return []
    return [r for r in ctx.rows(table, order) if r["product_id"] == product_id]


def _cycles(ctx: DbContext, product: Mapping[str, Any], chain_pack_id: int, monitor: dict) -> list[Finding]:
    found: list[Finding] = []
    rows = _of(ctx, "monitoring_cycle", product["product_id"], ("cycle",))
    scores = _of(ctx, "cycle_score", product["product_id"], ("cycle", "loan_id"))
    for row in rows:
        subject = row_name("monitoring_cycle", row, "product_id", "cycle")
        chain = monitor["cycles"].get(row["cycle"])
        if chain is None:
            if row["step"] in RECORDED_STEPS:
                found.append(Finding("db", subject, "step", "not recorded", row["step"], "no such cycle on chain"))
            continue
        summary = row["summary"] or {}
        for name, chain_name in CYCLE_FIELDS:
            found += differs(subject, f"summary.{name}", chain[chain_name], summary.get(name),
                             "PackMonitor's CycleRecorded")
        found += differs(subject, "score_batch_id", chain["score_batch_id"], row["score_batch_id"])
        batch = ctx.state.score_batches.get(chain["score_batch_id"])
        mine = [s for s in scores if s["cycle"] == row["cycle"]]
        if batch is not None and mine:
            columns = [matrix([asset_id(s["loan_id"]) for s in mine]), small([s["score"] for s in mine]),
                       small([s["level"] for s in mine]), np.full(len(mine), product["model_id"], np.int64)]
            root = root_of(tree_of(columns, SCORE_LEAF))
            found += differs(f"cycle_score[product_id={product['product_id']},cycle={row['cycle']}] rows",
                             "score root", batch["root"], root, "the cycle's ScoreRegistry batch root")
    missing = sorted(set(monitor["cycles"]) - {r["cycle"] for r in rows})
    if missing:
        found.append(Finding("db", row_name("monitored_product", product, "product_id"), "monitoring_cycle rows",
                             missing, None, "cycles recorded on chain with no row"))
    return found


def _borrowers(ctx: DbContext, product_id: int) -> dict[str, str]:
    return {h["loan_id"]: h["borrower_id"] for h in _of(ctx, "holding", product_id, ("loan_id",))}


def _triggers(ctx: DbContext, product: Mapping[str, Any], monitor: dict) -> list[Finding]:
    chain = {(t["cycle"], t["rule_id"].lower()): t["evidence_hash"] for t in monitor["triggers"]}
    borrowers = _borrowers(ctx, product["product_id"])
    found: list[Finding] = []
    seen = set()
    for row in _of(ctx, "monitoring_trigger", product["product_id"], ("id",)):
        subject = row_name("monitoring_trigger", row, "id")
        key = (row["cycle"], rule_key(row["rule_id"]))
        seen.add(key)
        if key not in chain:
            if row["tx_hash"] is not None:
                found.append(Finding("db", subject, "rule_id", None, row["rule_id"], "no such trigger on chain"))
            continue
        found += differs(subject, "evidence_hash", chain[key], row["evidence_hash"], "PackMonitor's TriggerFired")
        loans = tuple(row["loan_ids"] or ())
        firing = Firing(row["rule_id"], row["kind"], row["evidence"], loans,
                        tuple(sorted({borrowers.get(loan, "") for loan in loans})))
        found += differs(subject, "evidence", chain[key], Web3.to_hex(Web3.keccak(evidence_json(firing))),
                         "keccak256 of the canonical evidence (rule, kind, evidence, loans and their borrowers)")
    for cycle, rule in sorted(set(chain) - seen):
        found.append(Finding("db", row_name("monitored_product", product, "product_id"), "monitoring_trigger rows",
                             f"cycle {cycle} rule {rule}", None, "a trigger fired on chain with no row"))
    return found


def _recorded(table: str, rows: list[Mapping[str, Any]], chain_id: str, records: dict,
              found: list[Finding]) -> Iterator[tuple[str, Mapping[str, Any], dict]]:
    """Each row the platform recorded on chain, with its chain record; one the chain lacks is a finding."""
    for row in rows:
        if row[chain_id] is None:
            continue
        subject = row_name(table, row, "id")
        if row[chain_id] not in records:
            found.append(Finding("db", subject, chain_id, None, row[chain_id], f"no such {table} of this pack on chain"))
            continue
        yield subject, row, records[row[chain_id]]


def _timestamp(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp())


def _measures(ctx: DbContext, product: Mapping[str, Any], monitor: dict) -> list[Finding]:
    found: list[Finding] = []
    rows = _of(ctx, "measure", product["product_id"], ("id",))
    for subject, row, chain in _recorded("measure", rows, "chain_measure_id", monitor["measures"], found):
        found += differs(subject, "status", chain["status"], row["status"], "PackMonitor's measure events")
        found += differs(subject, "kind", chain["kind"], row["kind"])
        found += differs(subject, "cycle", chain["cycle"], row["cycle"])
        found += differs(subject, "rule_id", chain["rule_id"], rule_key(row["rule_id"]), "keccak256 of the rule name")
        found += differs(subject, "subject_root", chain["subject_root"], row["subject_root"])
        found += differs(subject, "deadline", chain["deadline"], _timestamp(row["deadline"]))
        loans = list(row["loan_ids"] or ())
        root = root_of(tree_of([matrix([asset_id(loan) for loan in loans])], SUBJECT_LEAF))
        found += differs(subject, "loan_ids", chain["subject_root"], root, "the subjects' root of these loans")
    return found


def _replacements(ctx: DbContext, product: Mapping[str, Any], monitor: dict, kept_root: str) -> list[Finding]:
    found: list[Finding] = []
    measures = {m["id"]: m["chain_measure_id"] for m in _of(ctx, "measure", product["product_id"], ("id",))}
    rows = _of(ctx, "replacement", product["product_id"], ("id",))
    for subject, row, chain in _recorded("replacement", rows, "chain_replacement_id", monitor["replacements"], found):
        for name in ("previous_root", "new_root", "out_root", "in_root", "cycle"):
            found += differs(subject, name, chain[name], row[name], "PackMonitor's ReplacementRecorded")
        found += differs(subject, "measure_id", chain["measure_id"], measures.get(row["measure_id"], 0),
                         "the measure's chain id")
        found += differs(subject, "swaps", chain["swap_count"], len(row["swaps"] or ()))
    return found + _pool(ctx, product, monitor["current_root"] or kept_root)


def _pool(ctx: DbContext, product: Mapping[str, Any], current_root: str) -> list[Finding]:
    """The holdings still in the pool give the pool's current root (entry score and level)."""
    pool = [h for h in _of(ctx, "holding", product["product_id"], ("loan_id",)) if h["status"] != "replaced"]
    if not pool:
        return []
    columns = [matrix([bytes(h["asset_id"]) for h in pool]), matrix([bytes(h["record_hash"]) for h in pool]),
               small([h["entry_score"] for h in pool]), small([h["entry_level"] for h in pool])]
    root = root_of(tree_of(columns, PACK_ASSET_LEAF))
    return differs(f"holding[product_id={product['product_id']}] rows", "pool root", current_root, root,
                   "PackMonitor's current root (kept root, moved by replacements)")
