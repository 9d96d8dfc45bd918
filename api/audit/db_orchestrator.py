"""``audit db`` for the orchestrator's tables: pack, asset, asset_credit_check, asset_score,
asset_outcome, chain_tx.

Rows are named wherever the chain lets a row be pinned down: a loan record that no longer hashes
to its record hash, a level the model's edges do not give, a score or level ``scoreOf`` knows
otherwise (batches of <= 256), an outcome the filter (rerun on the database's scores, and proven
by giving the committed kept root) decides otherwise, a transaction whose block or events the
chain's receipt contradicts. A committed root the rows no longer give is reported for the pack
only when no row of it was named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from api.audit.db_bundles import AttestedPack, attest_bundle
from api.audit.db_context import DbContext, differs, row_name
from api.audit.db_pins import LOAN_FIELDS, pin_rows
from api.audit.rates import level_table, rerun_filter
from api.orchestrator.pipeline.chain_sync import event_dict
from api.orchestrator.submission.fields import canonical_record
from chain.audit.findings import Finding
from chain.audit.leafset import root_of, tree_of
from chain.audit.pack_checks import EXCLUDED, KEPT, REMOVED, AssetRow
from chain.audit.pack_facts import committed_scores, level_of, read_pack
from chain.audit.transitions import PACK_STATES
from chain.events import EventDecoder
from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, SCORE_LEAF, SUBMITTED_ASSET_LEAF, asset_id, reason_id, record_hash

COMMITTED = PACK_STATES.index("Committed")


def compare_orchestrator(ctx: DbContext) -> list[Finding]:
    if not ctx.has("pack", "asset"):
        return []
    found: list[Finding] = []
    for pack in ctx.rows("pack", ("id",)):
        if pack["chain_pack_id"] is None:
            continue
        found += _pack(ctx, pack)
    if ctx.has("chain_tx"):
        found += _transactions(ctx)
    return found


def _pack(ctx: DbContext, pack: Mapping[str, Any]) -> list[Finding]:
    subject = row_name("pack", pack, "id")
    chain = ctx.state.packs.get(pack["chain_pack_id"])
    if chain is None:
        return [Finding("db", subject, "chain_pack_id", None, pack["chain_pack_id"], "no such pack on chain")]
    shown = chain.state_name if pack["chain_state"] == chain.state_name else PACK_STATES[min(chain.state, COMMITTED)]
    plan, credit = pack["filter_plan"] or {}, pack["credit_summary"] or {}
    found = [*differs(subject, "chain_state", shown, pack["chain_state"], f"on chain: {chain.state_name}"),
             *differs(subject, "assets_root", chain.assets_root, pack["assets_root"]),
             *differs(subject, "asset_count", chain.asset_count, pack["asset_count"]),
             *differs(subject, "total_balance_minor", chain.total_balance, pack["total_balance_minor"]),
             *differs(subject, "expected_bad_rate_ppm", chain.expected_bad_rate_ppm, pack["expected_bad_rate_ppm"]),
             *differs(subject, "financier_address", chain.financier, pack["financier_address"])]
    if chain.model_id is not None:
        found += differs(subject, "model_id", chain.model_id, pack["model_id"])
        found += differs(subject, "score_batch_id", chain.score_batch_id, pack["score_batch_id"])
    if chain.kept_root is not None:
        found += differs(subject, "filter_plan.kept_root", chain.kept_root, plan.get("kept_root"))
        found += differs(subject, "filter_plan.removed_root", chain.removed_root, plan.get("removed_root"))
    if chain.excluded_root is not None:
        found += differs(subject, "credit_summary.excluded_root", chain.excluded_root, credit.get("excluded_root"))
    if chain.state >= COMMITTED:
        found += _assets(ctx, pack)
    return found


def _asset_rows(ctx: DbContext, pack_id: int) -> list[dict[str, Any]]:
    joined: dict[int, dict[str, Any]] = {}
    for table in ("asset", "asset_credit_check", "asset_score", "asset_outcome"):
        if not ctx.has(table):
            continue
        t = ctx.tables[table]
        for row in ctx.connection.execute(t.select().where(t.c.pack_id == pack_id)).mappings():
            joined.setdefault(row["row_no"], {}).update({f"{table}.{k}": v for k, v in row.items()})
    return [joined[k] for k in sorted(joined)]


def _assets(ctx: DbContext, pack: Mapping[str, Any]) -> list[Finding]:
    rows = _asset_rows(ctx, pack["id"])
    facts = read_pack(ctx.contract("AssetPack"), ctx.contract("ScoreRegistry"), pack["chain_pack_id"])
    model = ctx.model(facts.model_id)
    bundle = ctx.bundles.get(pack["chain_pack_id"])
    attested = attest_bundle(facts, bundle) if bundle is not None else None
    named = pin_rows(rows, attested, pack["id"], len(model.upper_edges)) if attested is not None else []
    pinned = {f.subject for f in named}
    for r in rows:
        key = f"pack_id={pack['id']},row_no={r['asset.row_no']}"
        record = {name: r[f"asset.{name}"] for name in LOAN_FIELDS}
        if f"asset[{key}]" not in pinned:  # an attested record names the field itself
            named += differs(f"asset[{key}]", "record", "0x" + bytes(r["asset.record_hash"]).hex(),
                             "0x" + record_hash(canonical_record(record)).hex(),
                             "the row's loan fields no longer hash to its committed record hash")
        named += differs(f"asset[{key}]", "asset_id", asset_id(r["asset.loan_id"]), r["asset.asset_id"])
        if r.get("asset_score.score") is not None:
            named += differs(f"asset_score[{key}]", "level", level_of(r["asset_score.score"], model.upper_edges),
                             r["asset_score.level"], f"model {model.model_id}'s edges for score "
                                                     f"{r['asset_score.score']}")
    named += _scores_on_chain(ctx, facts, rows, pack["id"])
    outcome = _outcomes(ctx, facts, model, rows, pack["id"])
    named += outcome
    return named or _roots(facts, rows, pack, attested, ctx.bundles.problems.get(pack["chain_pack_id"]))


def _scores_on_chain(ctx: DbContext, facts: Any, rows: list[dict[str, Any]], pack_id: int) -> list[Finding]:
    """A batch of <= 256 carries each score on chain; its level is the model's for that score."""
    if not facts.individual_scores:
        return []
    committed = committed_scores(ctx.contract("ScoreRegistry"), facts.score_batch_id, ctx.manifest.deploy_block)
    edges = ctx.model(facts.model_id).upper_edges
    found: list[Finding] = []
    for r in rows:
        score = committed.get("0x" + bytes(r["asset.asset_id"]).hex())
        if r.get("asset_score.score") is None or score is None:
            continue
        subject = f"asset_score[pack_id={pack_id},row_no={r['asset.row_no']}]"
        found += differs(subject, "score", score, r["asset_score.score"], "the score batch's committed scores")
        found += differs(subject, "level", level_of(score, edges), r["asset_score.level"],
                         "the model's level of the committed score")
    return found


def _as_asset_rows(rows: list[dict[str, Any]]) -> list[AssetRow]:
    return [AssetRow(r["asset.loan_id"], {"outstanding_balance_minor": r["asset.outstanding_balance_minor"]},
                     "0x" + bytes(r["asset.record_hash"]).hex(), r.get("asset_outcome.outcome") or EXCLUDED,
                     score=r.get("asset_score.score"), level=r.get("asset_score.level"),
                     pd_ppm=r.get("asset_score.pd_ppm")) for r in rows]


def _outcomes(ctx: DbContext, facts: Any, model: Any, rows: list[dict[str, Any]], pack_id: int) -> list[Finding]:
    """Outcome rows the committed filter contradicts: rerun on the database's scores, and trusted only
    if the rerun's kept set gives the committed kept root."""
    assets = _as_asset_rows(rows)
    scored = [a for a in assets if a.outcome != EXCLUDED and a.score is not None]
    kept = rerun_filter(facts, level_table(model), scored)
    if kept is None or _kept_root(rows, kept) != facts.kept_root.lower():
        return []
    found: list[Finding] = []
    for r, a in zip(rows, assets):
        if a.outcome == EXCLUDED or a.score is None:
            continue
        should = KEPT if a.loan_id in kept else REMOVED
        found += differs(f"asset_outcome[pack_id={pack_id},row_no={r['asset.row_no']}]", "outcome", should, a.outcome,
                         "the committed filter result")
    return found


def _matrix(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 32)


def _kept_root(rows: list[dict[str, Any]], kept: set[str]) -> str:
    part = [r for r in rows if r["asset.loan_id"] in kept]
    return root_of(tree_of([_matrix([bytes(r["asset.asset_id"]) for r in part]),
                            _matrix([bytes(r["asset.record_hash"]) for r in part]),
                            np.array([r["asset_score.score"] for r in part], np.uint8),
                            np.array([r["asset_score.level"] for r in part], np.uint8)], PACK_ASSET_LEAF)).lower()


def _roots(facts: Any, rows: list[dict[str, Any]], pack: Mapping[str, Any], attested: AttestedPack | None,
           problem: str | None) -> list[Finding]:
    """Roots the rows no longer give, when no row could be named (and why no bundle named one)."""
    if attested is not None and attested.unproven:
        why = (f"; the given bundle's {', '.join(attested.unproven)} leaves do not give the committed roots either "
               "(exported after the change?): give a bundle published before it")
    elif attested is None:
        why = f"; no bundle for this pack ({problem})" if problem else "; give the pack's bundle to name the row"
    else:
        why = ""
    subject = f"pack[id={pack['id']}] rows"
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r.get("asset_outcome.outcome") or EXCLUDED].append(r)
    scored = by[KEPT] + by[REMOVED]

    def ids(part: list[dict[str, Any]], column: str = "asset.asset_id") -> np.ndarray:
        return _matrix([bytes(r[column]) for r in part])

    def small(part: list[dict[str, Any]], column: str) -> np.ndarray:
        return np.array([r[column] for r in part], np.uint8)

    trees = {
        "assets_root (asset)": (facts.assets_root, [ids(rows), ids(rows, "asset.record_hash")], SUBMITTED_ASSET_LEAF),
        "excluded_root (asset_credit_check)": (facts.excluded_root, [
            ids(by[EXCLUDED]), _matrix([reason_id(r.get("asset_credit_check.reason") or "") for r in by[EXCLUDED]])],
            EXCLUDED_LEAF),
        "score root (asset_score)": (facts.score_root, [ids(scored), small(scored, "asset_score.score"),
                                                         small(scored, "asset_score.level"),
                                                         np.full(len(scored), facts.model_id, np.int64)], SCORE_LEAF),
    }
    for outcome, root in ((KEPT, facts.kept_root), (REMOVED, facts.removed_root)):
        part = by[outcome]
        trees[f"{outcome}_root (asset_outcome)"] = (root, [ids(part), ids(part, "asset.record_hash"),
                                                           small(part, "asset_score.score"),
                                                           small(part, "asset_score.level")], PACK_ASSET_LEAF)
    found: list[Finding] = []
    for name, (root, columns, encoding) in trees.items():
        found += differs(subject, name, root, root_of(tree_of(columns, encoding)),
                         "the rows give another root, and no single row could be named" + why)
    return found


def _transactions(ctx: DbContext) -> list[Finding]:
    """Each recorded transaction: its block and the events its receipt really emitted."""
    decoder = EventDecoder.from_manifest(ctx.w3, ctx.manifest)
    found: list[Finding] = []
    for tx in ctx.rows("chain_tx", ("id",)):
        subject = row_name("chain_tx", tx, "id")
        try:
            receipt = ctx.w3.eth.get_transaction_receipt(tx["tx_hash"])
        except Exception:  # noqa: BLE001 - web3 raises TransactionNotFound or a node error
            found.append(Finding("db", subject, "tx_hash", None, tx["tx_hash"], "no such transaction on chain"))
            continue
        found += differs(subject, "block_number", receipt["blockNumber"], tx["block_number"])
        if tx["events"] is not None:
            chain_events = [event_dict(record) for record in decoder.decode_receipt(receipt)]
            found += differs(subject, "events", chain_events, tx["events"], "the receipt's decoded events")
    return found
