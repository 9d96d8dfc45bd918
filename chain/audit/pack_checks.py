"""A pack's bundle against the chain: records, exclusions, credit evidence, scores, levels, and
the kept and removed sets, each recomputed from the bundle's rows and compared with the roots the
pack committed. Where a root differs, the tree's published leaf layer (``chain.audit.leafset``)
names the rows the chain does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chain.audit.findings import Finding, mismatch
from chain.audit.leafset import leaf_hashes_of, root_of, root_of_leaf_hashes, tree_of
from chain.audit.pack_facts import ModelFacts, PackFacts, level_of
from chain.leaves import (
    CREDIT_LEAF,
    EXCLUDED_LEAF,
    PACK_ASSET_LEAF,
    SCORE_LEAF,
    SUBMITTED_ASSET_LEAF,
    asset_id,
    from_hex32,
    reason_id,
    record_hash,
)
from chain.merkle import standard_leaf_hash
from chain.merkle_hashing import keccak256
from chain.merkle_proofs import verify_proof

KEPT, REMOVED, EXCLUDED = "kept", "removed", "excluded"


@dataclass(frozen=True)
class AssetRow:
    """One asset as the bundle gives it."""

    loan_id: str
    record: dict[str, Any]  # the canonical loan record (11 fields)
    record_hash: str
    outcome: str  # kept | removed | excluded
    reason: str | None = None  # exclusion reason code
    score: int | None = None
    level: int | None = None
    pd_ppm: int | None = None
    credit: dict[str, Any] | None = None  # salted_hash, batch_id, proof, and salt + record_json if entitled

    @property
    def subject(self) -> str:
        return f"asset {self.loan_id}"

    @property
    def balance(self) -> int:
        return int(self.record["outstanding_balance_minor"])


@dataclass
class TreeCheck:
    """A tree to check: its name, leaf encoding, rows (as subjects) and columns, and the chain's root."""

    name: str
    encoding: tuple[str, ...]
    subjects: list[str]
    columns: list[Any]
    committed_root: str
    published: Sequence[str] | None = None
    findings: list[Finding] = field(default_factory=list)


def check_tree(t: TreeCheck) -> list[Finding]:
    """Root of the rows against the committed root; on a difference, name the rows not committed."""
    tree = tree_of(t.columns, t.encoding)
    root = root_of(tree)
    if root.lower() == t.committed_root.lower():
        return []
    found = [Finding("root", f"{t.name} tree", "root", t.committed_root, root,
                     "the bundle's rows do not give the committed root")]
    if t.published is None:
        return found
    if root_of_leaf_hashes(list(t.published)).lower() != t.committed_root.lower():
        return [*found, Finding("leaves", f"{t.name} tree", "published leaves", t.committed_root,
                                root_of_leaf_hashes(list(t.published)),
                                "the published leaf layer does not authenticate either: rows cannot be named")]
    committed = {h.lower() for h in t.published}
    hashes = [h.lower() for h in leaf_hashes_of(tree)]
    for subject, leaf in zip(t.subjects, hashes):
        if leaf not in committed:
            found.append(Finding("proof", subject, t.name, "a leaf of the committed tree", leaf,
                                 f"this row is not in the committed {t.name} tree"))
    missing = len(committed - set(hashes))
    if missing:
        found.append(Finding("proof", f"{t.name} tree", "rows", len(committed), len(committed) - missing,
                             f"{missing} committed leaves have no row in the bundle"))
    return found


def _ids(rows: Sequence[AssetRow]) -> np.ndarray:
    raw = b"".join(asset_id(r.loan_id) for r in rows)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(rows), 32)


def _hashes(values: Sequence[str | bytes]) -> np.ndarray:
    raw = b"".join(from_hex32(v) for v in values)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 32)


def check_records(facts: PackFacts, rows: Sequence[AssetRow], published: Mapping[str, Sequence[str]]) -> list[Finding]:
    """Each record hashes to its record hash; all of them give the submitted assets root, count, balance."""
    found: list[Finding] = []
    for row in rows:
        found += mismatch("record", row.subject, "record_hash", "0x" + record_hash(row.record).hex(), row.record_hash,
                          "the loan record does not hash to the record hash")
        found += mismatch("record", row.subject, "loan_id", row.loan_id, row.record.get("loan_id"))
    found += mismatch("count", f"pack {facts.pack_id}", "asset_count", facts.asset_count, len(rows))
    found += mismatch("balance", f"pack {facts.pack_id}", "total_balance", facts.total_balance,
                      sum(r.balance for r in rows))
    found += check_tree(TreeCheck("submitted", SUBMITTED_ASSET_LEAF, [r.subject for r in rows],
                                  [_ids(rows), _hashes([r.record_hash for r in rows])], facts.assets_root,
                                  published.get("submitted")))
    return found


def check_exclusions(facts: PackFacts, rows: Sequence[AssetRow], published: Mapping[str, Sequence[str]]) -> list[Finding]:
    excluded = [r for r in rows if r.outcome == EXCLUDED]
    found = mismatch("count", f"pack {facts.pack_id}", "excluded_count", facts.excluded_count, len(excluded))
    reasons = _hashes([reason_id(r.reason or "") for r in excluded]) if excluded else np.zeros((0, 32), np.uint8)
    return found + check_tree(TreeCheck("excluded", EXCLUDED_LEAF, [r.subject for r in excluded],
                                        [_ids(excluded), reasons], facts.excluded_root, published.get("excluded")))


def check_credit(rows: Sequence[AssetRow], credit_roots: Mapping[int, str]) -> list[Finding]:
    """Every scored asset's bureau record: salted hash from salt and record, and its proof under the batch root."""
    found: list[Finding] = []
    for row in rows:
        if row.outcome == EXCLUDED:
            continue
        credit = row.credit
        if not credit:
            found.append(Finding("credit", row.subject, "credit", "bureau evidence", None,
                                 "a scored asset without its borrower's credit evidence"))
            continue
        salted = credit["salted_hash"]
        if credit.get("salt") and credit.get("record_json") is not None:
            own = "0x" + keccak256(from_hex32(credit["salt"]) + keccak256(credit["record_json"].encode())).hex()
            found += mismatch("credit", row.subject, "salted_hash", own, salted,
                              "salt and record do not give the salted hash")
        root = credit_roots.get(int(credit["batch_id"]))
        if root is None:
            found.append(Finding("credit", row.subject, "batch_id", "a committed credit batch", credit["batch_id"]))
            continue
        leaf = standard_leaf_hash(CREDIT_LEAF, [from_hex32(salted)])
        if not verify_proof(root, leaf, credit.get("proof") or []):
            found.append(Finding("credit", row.subject, "proof", root, salted,
                                 f"the record's proof does not verify under credit batch {credit['batch_id']}"))
    return found


def check_scores(facts: PackFacts, model: ModelFacts, rows: Sequence[AssetRow],
                 published: Mapping[str, Sequence[str]]) -> list[Finding]:
    """Every score in 1..100 at the level the model's edges give, all under the committed score root."""
    scored = [r for r in rows if r.outcome != EXCLUDED]
    found = mismatch("count", f"pack {facts.pack_id}", "eligible_count", facts.eligible_count, len(scored))
    found += mismatch("count", f"score batch {facts.score_batch_id}", "asset_count", facts.score_count, len(scored))
    for row in scored:
        if row.score is None or not 1 <= row.score <= 100:
            found.append(Finding("score", row.subject, "score", "an integer in 1..100", row.score))
            continue
        found += mismatch("level", row.subject, "level", level_of(row.score, model.upper_edges), row.level,
                          f"score {row.score} under model {model.model_id}'s edges")
    if facts.score_root is None:
        return [*found, Finding("score", f"pack {facts.pack_id}", "score_batch_id", "a committed batch", None)]
    valid = [r for r in scored if r.score is not None and 1 <= r.score <= 100 and r.level is not None]
    columns = [_ids(valid), np.array([r.score for r in valid], np.uint8), np.array([r.level for r in valid], np.uint8),
               np.full(len(valid), facts.model_id, np.int64)]
    return found + check_tree(TreeCheck("score", SCORE_LEAF, [r.subject for r in valid], columns, facts.score_root,
                                        published.get("score")))


def check_outcomes(facts: PackFacts, rows: Sequence[AssetRow], published: Mapping[str, Sequence[str]]) -> list[Finding]:
    """Kept and removed sets against the committed roots, counts and balances."""
    found: list[Finding] = []
    committed = {KEPT: (facts.kept_root, facts.kept_count, facts.kept_balance),
                 REMOVED: (facts.removed_root, facts.removed_count, facts.removed_balance)}
    for outcome, (root, count, balance) in committed.items():
        part = [r for r in rows if r.outcome == outcome and r.score is not None and r.level is not None]
        subject = f"pack {facts.pack_id}"
        found += mismatch("count", subject, f"{outcome}_count", count, len(part))
        found += mismatch("balance", subject, f"{outcome}_balance", balance, sum(r.balance for r in part))
        columns = [_ids(part), _hashes([r.record_hash for r in part]) if part else np.zeros((0, 32), np.uint8),
                   np.array([r.score for r in part], np.uint8), np.array([r.level for r in part], np.uint8)]
        found += check_tree(TreeCheck(outcome, PACK_ASSET_LEAF, [r.subject for r in part], columns, root,
                                      published.get(outcome)))
    return found


def check_pack_bundle(facts: PackFacts, model: ModelFacts, rows: Sequence[AssetRow],
                      published: Mapping[str, Sequence[str]], credit_roots: Mapping[int, str]) -> list[Finding]:
    """Every Merkle-level check of a pack's bundle, in the order of the pipeline."""
    unknown = [Finding("bundle", r.subject, "outcome", "kept, removed or excluded", r.outcome)
               for r in rows if r.outcome not in (KEPT, REMOVED, EXCLUDED)]
    return [*unknown, *check_records(facts, rows, published), *check_exclusions(facts, rows, published),
            *check_credit(rows, credit_roots), *check_scores(facts, model, rows, published),
            *check_outcomes(facts, rows, published)]
