"""Bundles as evidence for ``audit db``: what a pack's published bundle proves, tree by tree.

Over 256 assets the chain holds a pack's roots only, so a database row can be named only with the
committed leaves. A bundle's leaf layer of a tree is used only if it gives the root on chain
(``chain.audit.leafset.authenticated_set``); a bundle row is chain-attested for a tree only if its
own leaf is in that authenticated set. Nothing else of the bundle is trusted, so a bundle whose
other trees or rows were forged still proves what it can. A bundle the platform exported after a
database row was changed carries the changed row's leaf: that tree no longer authenticates, and
``AttestedPack.unproven`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from api.audit.bundle import BundleError, PackBundle, iter_text_lines, open_bundle, read_pack_bundle
from chain.audit.leafset import authenticated_set, row_leaf_hashes
from chain.audit.pack_checks import EXCLUDED, KEPT, REMOVED, AssetRow
from chain.audit.pack_facts import PackFacts
from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, SCORE_LEAF, SUBMITTED_ASSET_LEAF, asset_id, from_hex32
from chain.leaves import reason_id, record_hash

TREE_ROOTS = {"submitted": "assets_root", "excluded": "excluded_root", "score": "score_root", "kept": "kept_root",
              "removed": "removed_root"}


@dataclass
class AttestedPack:
    """What one bundle proves of pack ``pack_id``: authenticated leaf sets, and the rows they attest
    (keyed by 0x asset id)."""

    pack_id: int
    model_id: int
    leaves: dict[str, frozenset[str]] = field(default_factory=dict)
    unproven: list[str] = field(default_factory=list)  # trees whose published leaves do not give the root
    records: dict[str, tuple[dict, str]] = field(default_factory=dict)  # record, record hash
    scores: dict[str, tuple[int, int]] = field(default_factory=dict)  # score, level
    outcomes: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # outcome, exclusion reason


def matrix(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 32)


def small(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def attest_bundle(facts: PackFacts, bundle: PackBundle) -> AttestedPack:
    attested = AttestedPack(facts.pack_id, facts.model_id)
    for tree, root_name in TREE_ROOTS.items():
        proven = authenticated_set(bundle.leaves.get(tree), getattr(facts, root_name))
        if proven is None:
            attested.unproven.append(tree)
        else:
            attested.leaves[tree] = proven
    rows = [r for r in bundle.rows if r.loan_id]
    ids = [asset_id(r.loan_id) for r in rows]
    if "submitted" in attested.leaves and rows:
        leaves = row_leaf_hashes([matrix(ids), matrix([from_hex32(r.record_hash) for r in rows])], SUBMITTED_ASSET_LEAF)
        for r, aid, leaf in zip(rows, ids, leaves):
            if leaf in attested.leaves["submitted"] and "0x" + record_hash(r.record).hex() == r.record_hash.lower():
                attested.records["0x" + aid.hex()] = (r.record, r.record_hash.lower())
    _attest_scores(attested, rows, ids)
    _attest_outcomes(attested, rows, ids)
    return attested


def _valid(r: AssetRow) -> bool:
    return r.score is not None and r.level is not None and 1 <= r.score <= 100 and 1 <= r.level <= 255


def _attest_scores(attested: AttestedPack, rows: list[AssetRow], ids: list[bytes]) -> None:
    part = [(r, aid) for r, aid in zip(rows, ids) if _valid(r)]
    if "score" not in attested.leaves or not part:
        return
    leaves = row_leaf_hashes([matrix([aid for _, aid in part]), small([r.score for r, _ in part]),
                              small([r.level for r, _ in part]), np.full(len(part), attested.model_id, np.int64)],
                             SCORE_LEAF)
    for (r, aid), leaf in zip(part, leaves):
        if leaf in attested.leaves["score"]:
            attested.scores["0x" + aid.hex()] = (r.score, r.level)


def _attest_outcomes(attested: AttestedPack, rows: list[AssetRow], ids: list[bytes]) -> None:
    excluded = [(r, aid) for r, aid in zip(rows, ids) if r.outcome == EXCLUDED]
    if "excluded" in attested.leaves and excluded:
        leaves = row_leaf_hashes([matrix([aid for _, aid in excluded]),
                                  matrix([reason_id(r.reason or "") for r, _ in excluded])], EXCLUDED_LEAF)
        for (r, aid), leaf in zip(excluded, leaves):
            if leaf in attested.leaves["excluded"]:
                attested.outcomes["0x" + aid.hex()] = (EXCLUDED, r.reason)
    scored = [(r, aid) for r, aid in zip(rows, ids) if _valid(r)]
    if not scored:
        return
    leaves = row_leaf_hashes([matrix([aid for _, aid in scored]),
                              matrix([from_hex32(r.record_hash) for r, _ in scored]),
                              small([r.score for r, _ in scored]), small([r.level for r, _ in scored])],
                             PACK_ASSET_LEAF)
    for (r, aid), leaf in zip(scored, leaves):
        for outcome in (KEPT, REMOVED):
            if leaf in attested.leaves.get(outcome, frozenset()):
                attested.outcomes["0x" + aid.hex()] = (outcome, None)


class BundleSource:
    """The bundles ``audit db`` may use: files the auditor kept (``--bundle``), and a fetcher asked
    for any other committed pack (``--api-url``/``--api-key``). Read lazily, once per pack."""

    def __init__(self, bundles: Iterable[PackBundle] = (),
                 fetch: Callable[[int], PackBundle | None] | None = None) -> None:
        self._bundles = {b.chain_pack_id: b for b in bundles}
        self._fetch = fetch
        self.problems: dict[int, str] = {}

    @classmethod
    def from_files(cls, paths: Iterable[Path], fetch: Callable[[int], PackBundle | None] | None = None) -> BundleSource:
        bundles = []
        for path in paths:
            with open_bundle(path) as handle:
                bundles.append(read_pack_bundle(handle))
        return cls(bundles, fetch)

    def get(self, chain_pack_id: int) -> PackBundle | None:
        if chain_pack_id not in self._bundles and self._fetch is not None:
            try:
                self._bundles[chain_pack_id] = self._fetch(chain_pack_id)
            except Exception as exc:  # noqa: BLE001 - a bundle that cannot be had is noted, not fatal
                self.problems[chain_pack_id] = str(exc)[:300]
                self._bundles[chain_pack_id] = None
        return self._bundles.get(chain_pack_id)


def http_fetcher(http: Any) -> Callable[[int], PackBundle | None]:
    """Fetch ``GET /v1/audit/packs/{id}/bundle`` with an ``httpx.Client`` bound to the orchestrator and the
    auditor's key (None for a pack the platform does not know)."""
    def fetch(chain_pack_id: int) -> PackBundle | None:
        with http.stream("GET", f"/v1/audit/packs/{chain_pack_id}/bundle") as response:
            if response.status_code == 404:
                return None
            if response.is_error:
                response.read()
                raise BundleError(f"the API refused the bundle: {response.status_code} {response.text[:200]}")
            return read_pack_bundle(iter_text_lines(response.iter_bytes()))
    return fetch
