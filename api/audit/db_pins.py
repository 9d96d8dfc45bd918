"""``audit db``: a pack's asset rows pinned one by one against the leaves a bundle proves
(``api.audit.db_bundles``), for packs of any size.

Each database row's leaf is recomputed from the database; a row whose leaf the authenticated set
lacks is named. Its chain value comes from the bundle's row for the same asset when that row is
itself attested (its leaf is in the set); failing that a score and level are recovered by trying
every (score, level) pair for the asset id against the set (at most 100 x 10 leaves per row).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from api.audit.db_bundles import AttestedPack, matrix, small
from api.audit.db_context import differs
from api.orchestrator.submission.fields import canonical_record
from chain.audit.findings import Finding
from chain.audit.leafset import first_committed, row_leaf_hashes
from chain.audit.pack_checks import EXCLUDED, KEPT, REMOVED
from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, SCORE_LEAF, SUBMITTED_ASSET_LEAF, reason_id

LOAN_FIELDS = ("loan_id", "borrower_id", "principal_minor", "outstanding_balance_minor", "annual_rate_bps",
               "term_months", "origination_date", "maturity_date", "collateral_ids", "industry", "region")
RECOVER_AT_MOST = 100  # rows per pack whose score and level are searched for
ATTESTED = "the chain-attested bundle row (its leaf is under the committed root)"

Row = Mapping[str, Any]


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def _outcome(r: Row) -> str:
    return r.get("asset_outcome.outcome") or EXCLUDED


def _scored(r: Row) -> bool:
    return _outcome(r) != EXCLUDED and r.get("asset_score.score") is not None and r.get("asset_score.level") is not None


def pin_rows(rows: list[Row], attested: AttestedPack, pack_id: int, level_count: int) -> list[Finding]:
    def key(r: Row) -> str:
        return f"pack_id={pack_id},row_no={r['asset.row_no']}"

    found: list[Finding] = []
    flagged: set[int] = set()  # rows whose record or score is wrong: their pack leaf says nothing of the outcome
    submitted = attested.leaves.get("submitted")
    if submitted is not None:
        found += differs(f"pack[id={pack_id}] rows", "asset rows", len(submitted), len(rows),
                         "leaves under the committed assets root")
        leaves = row_leaf_hashes([matrix([bytes(r["asset.asset_id"]) for r in rows]),
                                  matrix([bytes(r["asset.record_hash"]) for r in rows])], SUBMITTED_ASSET_LEAF)
        for index, (r, leaf) in enumerate(zip(rows, leaves)):
            own = _record(r, attested, key(r), leaf in submitted)
            flagged |= {index} if own else set()
            found += own
    scored = [i for i, r in enumerate(rows) if _scored(r)]
    if "score" in attested.leaves and scored:
        found += _scores(rows, scored, attested, key, level_count, flagged)
    found += _exclusions(rows, attested, key)
    found += _outcomes(rows, [i for i in scored if i not in flagged], attested, key)
    return found


def _record(r: Row, attested: AttestedPack, key: str, committed: bool) -> list[Finding]:
    subject = f"asset[{key}]"
    chain = attested.records.get(_hex(r["asset.asset_id"]))
    if chain is None:
        return [] if committed else [Finding("db", subject, "record_hash", None, _hex(r["asset.record_hash"]),
                                             "not a leaf of the committed assets root; no attested record")]
    record, record_hash = chain
    mine = canonical_record({name: r[f"asset.{name}"] for name in LOAN_FIELDS})
    found = [f for name in record for f in differs(subject, name, record[name], mine.get(name), ATTESTED)]
    return found + differs(subject, "record_hash", record_hash, _hex(r["asset.record_hash"]), ATTESTED)


def _scores(rows: list[Row], scored: list[int], attested: AttestedPack, key: Any, level_count: int,
            flagged: set[int]) -> list[Finding]:
    committed = attested.leaves["score"]
    part = [rows[i] for i in scored]
    leaves = row_leaf_hashes([matrix([bytes(r["asset.asset_id"]) for r in part]),
                              small([r["asset_score.score"] for r in part]),
                              small([r["asset_score.level"] for r in part]),
                              np.full(len(part), attested.model_id, np.int64)], SCORE_LEAF)
    found: list[Finding] = []
    searched = 0
    for index, r, leaf in zip(scored, part, leaves):
        if leaf in committed:
            continue
        flagged.add(index)
        subject = f"asset_score[{key(r)}]"
        chain = attested.scores.get(_hex(r["asset.asset_id"]))
        if chain is None and searched < RECOVER_AT_MOST:
            searched += 1
            chain = _search_score(bytes(r["asset.asset_id"]), attested, level_count)
        if chain is None:
            found.append(Finding("db", subject, "score", None, r["asset_score.score"],
                                 "not a leaf of the committed score root; no attested value"))
            continue
        detail = "the committed score root's leaf for this asset"
        found += differs(subject, "score", chain[0], r["asset_score.score"], detail)
        found += differs(subject, "level", chain[1], r["asset_score.level"], detail)
    return found


def _search_score(aid: bytes, attested: AttestedPack, level_count: int) -> tuple[int, int] | None:
    scores, levels = np.meshgrid(np.arange(1, 101), np.arange(1, level_count + 1), indexing="ij")
    scores, levels = scores.ravel(), levels.ravel()
    index = first_committed([matrix([aid] * len(scores)), scores.astype(np.int64), levels.astype(np.int64),
                             np.full(len(scores), attested.model_id, np.int64)], SCORE_LEAF, attested.leaves["score"])
    return None if index is None else (int(scores[index]), int(levels[index]))


def _exclusions(rows: list[Row], attested: AttestedPack, key: Any) -> list[Finding]:
    committed = attested.leaves.get("excluded")
    part = [r for r in rows if _outcome(r) == EXCLUDED]
    if committed is None or not part:
        return []
    leaves = row_leaf_hashes([matrix([bytes(r["asset.asset_id"]) for r in part]),
                              matrix([reason_id(r.get("asset_credit_check.reason") or "") for r in part])],
                             EXCLUDED_LEAF)
    found: list[Finding] = []
    for r, leaf in zip(part, leaves):
        if leaf in committed:
            continue
        chain = attested.outcomes.get(_hex(r["asset.asset_id"]))
        if chain is not None and chain[0] != EXCLUDED:
            found += differs(f"asset_outcome[{key(r)}]", "outcome", chain[0], EXCLUDED, ATTESTED)
        else:
            found += differs(f"asset_credit_check[{key(r)}]", "reason", chain and chain[1],
                             r.get("asset_credit_check.reason"), "not a leaf of the committed excluded root")
    return found


def _outcomes(rows: list[Row], clean: list[int], attested: AttestedPack, key: Any) -> list[Finding]:
    """Kept or removed, as the committed roots hold the row's (untampered) leaf."""
    sets = {outcome: attested.leaves.get(outcome) for outcome in (KEPT, REMOVED)}
    if not clean or all(s is None for s in sets.values()):
        return []
    part = [rows[i] for i in clean]
    leaves = row_leaf_hashes([matrix([bytes(r["asset.asset_id"]) for r in part]),
                              matrix([bytes(r["asset.record_hash"]) for r in part]),
                              small([r["asset_score.score"] for r in part]),
                              small([r["asset_score.level"] for r in part])], PACK_ASSET_LEAF)
    found: list[Finding] = []
    for r, leaf in zip(part, leaves):
        chain = next((o for o, s in sets.items() if s is not None and leaf in s), None)
        if chain is None and None in sets.values():
            continue  # the other outcome's leaves are not proven: nothing to say
        found += differs(f"asset_outcome[{key(r)}]", "outcome", chain, _outcome(r),
                         "the committed kept and removed roots")
    return found
