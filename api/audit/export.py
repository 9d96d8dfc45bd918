"""The platform's side of the audit: a pack's export bundle, from the orchestrator's database and
the bureau (``GET /v1/audit/packs/{chain pack id}/bundle``, AUDITOR only).

Bureau evidence: the orchestrator stores, per scored asset, the salted hash and batch it
verified. For the bundle it asks the bureau (the same client the credit check uses) for the
borrowers' current entries with their proofs: where the bureau's current record is the one that
was checked (same salted hash), the bundle carries its salt, record and proof, so the auditor can
re-derive the salted hash; where the bureau has since committed a newer record, the bundle
carries the checked salted hash and its proof under the checked batch (``batch_proofs``), no salt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.audit.bundle import asset_line, header_line, leaves_line
from api.db.bulk import as_bytes, select_rows
from api.errors import NotFoundError
from api.orchestrator.models import Pack
from api.orchestrator.submission.fields import canonical_record
from chain.audit.leafset import published_leaves, tree_of
from chain.audit.pack_checks import EXCLUDED, AssetRow
from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, SCORE_LEAF, SUBMITTED_ASSET_LEAF, reason_id

ASSET_SQL = """
SELECT a.row_no, a.loan_id, a.borrower_id, a.principal_minor, a.outstanding_balance_minor, a.annual_rate_bps,
       a.term_months, a.origination_date, a.maturity_date, a.collateral_ids, a.industry, a.region, a.asset_id,
       a.record_hash, c.eligible, c.reason, c.credit_batch_id, c.salted_hash, s.score, s.level, s.pd_ppm, o.outcome
FROM asset a
LEFT JOIN asset_credit_check c ON c.pack_id = a.pack_id AND c.row_no = a.row_no
LEFT JOIN asset_score s ON s.pack_id = a.pack_id AND s.row_no = a.row_no
LEFT JOIN asset_outcome o ON o.pack_id = a.pack_id AND o.row_no = a.row_no
WHERE a.pack_id = :p ORDER BY a.row_no
"""
FIELDS = ("row_no", "loan_id", "borrower_id", "principal_minor", "outstanding_balance_minor", "annual_rate_bps",
          "term_months", "origination_date", "maturity_date", "collateral_ids", "industry", "region", "asset_id",
          "record_hash", "eligible", "reason", "credit_batch_id", "salted_hash", "score", "level", "pd_ppm", "outcome")


class BureauEvidence(Protocol):
    """What the bundle needs of the bureau (``api.services.credit_check`` clients have it)."""

    def lookup(self, borrower_ids: Sequence[str], *, proofs: bool = True) -> dict[str, Any]: ...

    def batch_proofs(self, batch_id: int, salted_hashes: Sequence[str]) -> list[list[str] | None]: ...


def pack_header(pack: Pack) -> dict[str, Any]:
    plan, credit = pack.filter_plan or {}, pack.credit_summary or {}
    return {"chain_pack_id": pack.chain_pack_id, "financier": pack.financier_address, "assets_root": pack.assets_root,
            "asset_count": pack.asset_count, "total_balance": pack.total_balance_minor,
            "expected_bad_rate_ppm": pack.expected_bad_rate_ppm, "filter_mode": pack.filter_mode,
            "weight_by": pack.weight_by, "model_id": pack.model_id, "score_batch_id": pack.score_batch_id,
            "credit_batch_id": pack.credit_batch_id, "excluded_root": credit.get("excluded_root"),
            "kept_root": plan.get("kept_root"), "removed_root": plan.get("removed_root"), "step": pack.step,
            "chain_state": pack.chain_state}


def export_pack_lines(engine: Engine, chain_pack_id: int, bureau: BureauEvidence | None = None) -> Iterator[str]:
    """The bundle of the pack committed on chain as ``chain_pack_id``, line by line (read at once,
    so that an unknown pack raises here rather than half-way through a streamed answer)."""
    with Session(engine) as session:
        pack = session.exec(select(Pack).where(Pack.chain_pack_id == chain_pack_id)).first()
        if pack is None:
            raise NotFoundError(f"no pack of this platform is pack {chain_pack_id} on chain")
        raw = [dict(zip(FIELDS, row)) for row in select_rows(session, ASSET_SQL, {"p": pack.id})]
        header = pack_header(pack)
    rows = _asset_rows(raw, bureau)
    return _lines(header, rows, _trees(raw, rows, pack_model_id=header["model_id"]))


def _lines(header: dict[str, Any], rows: list[AssetRow], trees: dict[str, list[str]]) -> Iterator[str]:
    yield header_line("pack", header)
    for row in rows:
        yield asset_line(row)
    for tree, hashes in trees.items():
        yield leaves_line(tree, hashes)


def _asset_rows(raw: list[dict[str, Any]], bureau: BureauEvidence | None) -> list[AssetRow]:
    evidence = _credit_evidence(raw, bureau)
    rows = []
    for r in raw:
        outcome = r["outcome"] or (EXCLUDED if r["eligible"] is False else None)
        rows.append(AssetRow(loan_id=r["loan_id"], record=canonical_record(r),
                             record_hash="0x" + as_bytes(r["record_hash"]).hex(), outcome=outcome or "pending",
                             reason=r["reason"] if outcome == EXCLUDED else None, score=r["score"], level=r["level"],
                             pd_ppm=r["pd_ppm"], credit=evidence.get(r["row_no"])))
    return rows


def _credit_evidence(raw: list[dict[str, Any]], bureau: BureauEvidence | None) -> dict[int, dict[str, Any]]:
    scored = [r for r in raw if r["eligible"] and r["salted_hash"] is not None]
    if bureau is None or not scored:
        return {}
    entries = bureau.lookup(list(dict.fromkeys(r["borrower_id"] for r in scored)), proofs=True)
    evidence: dict[int, dict[str, Any]] = {}
    stale: dict[int, list[dict[str, Any]]] = {}
    for r in scored:
        salted = "0x" + as_bytes(r["salted_hash"]).hex()
        entry = entries.get(r["borrower_id"])
        if entry is not None and entry.salted_hash.lower() == salted:
            evidence[r["row_no"]] = {"batch_id": entry.batch_id, "salted_hash": salted, "salt": entry.salt,
                                     "record_json": entry.record_json, "proof": list(entry.proof or ())}
        else:
            evidence[r["row_no"]] = {"batch_id": r["credit_batch_id"], "salted_hash": salted, "proof": []}
            stale.setdefault(r["credit_batch_id"], []).append(evidence[r["row_no"]])
    for batch_id, items in stale.items():
        for item, proof in zip(items, bureau.batch_proofs(batch_id, [i["salted_hash"] for i in items])):
            item["proof"] = list(proof or ())
    return evidence


def _trees(raw: list[dict[str, Any]], rows: list[AssetRow], pack_model_id: int | None) -> dict[str, list[str]]:
    """The leaf layer of each of the pack's trees, as the platform's database gives them."""
    def hashes(values: list[bytes]) -> np.ndarray:
        return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 32)

    def ids(part: list[int]) -> np.ndarray:
        return hashes([as_bytes(raw[i]["asset_id"]) for i in part])

    def scores(part: list[int], name: str) -> np.ndarray:
        return np.array([getattr(rows[i], name) for i in part], dtype=np.uint8)

    every = list(range(len(rows)))
    excluded = [i for i in every if rows[i].outcome == EXCLUDED]
    scored = [i for i in every if rows[i].outcome != EXCLUDED and rows[i].score is not None]
    trees = {
        "submitted": tree_of([ids(every), hashes([as_bytes(raw[i]["record_hash"]) for i in every])],
                             SUBMITTED_ASSET_LEAF),
        "excluded": tree_of([ids(excluded), hashes([reason_id(rows[i].reason or "") for i in excluded])],
                            EXCLUDED_LEAF),
        "score": tree_of([ids(scored), scores(scored, "score"), scores(scored, "level"),
                          np.full(len(scored), pack_model_id or 0, np.int64)], SCORE_LEAF),
    }
    for outcome in ("kept", "removed"):
        part = [i for i in scored if rows[i].outcome == outcome]
        trees[outcome] = tree_of([ids(part), hashes([as_bytes(raw[i]["record_hash"]) for i in part]),
                                  scores(part, "score"), scores(part, "level")], PACK_ASSET_LEAF)
    return {name: published_leaves(tree) for name, tree in trees.items()}
