"""An asset's proof: kept or removed (against the roots ``recordFilter`` anchored, verifiable with
``AssetPack.verifyAsset``) or excluded before scoring (against the credit check's excluded root).

Trees are rebuilt from the stored rows once per pack and kept in a small cache; the rebuilt
root must equal the stored (and anchored) one, or the database no longer matches the chain.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from sqlmodel import Session

from api.db.bulk import as_bytes, select_rows
from api.errors import ConflictError, NotFoundError
from api.orchestrator.models import Pack
from api.orchestrator.schemas import AssetProof
from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, reason_id, to_hex32
from chain.merkle import StandardMerkleTree

_TREES: OrderedDict[tuple[int, str], tuple[StandardMerkleTree, dict[int, int]]] = OrderedDict()
_LOCK = threading.Lock()
_CAPACITY = 6


def _cached_tree(session: Session, pack: Pack, tree: str) -> tuple[StandardMerkleTree, dict[int, int]]:
    """(tree, row_no -> position in the tree's values) for the kept, removed or excluded assets."""
    expected = pack.credit_summary["excluded_root"] if tree == "excluded" else pack.filter_plan[f"{tree}_root"]
    key = (pack.id, expected)  # the root too: a re-filtered pack, or another database, has other trees
    with _LOCK:
        if key in _TREES:
            _TREES.move_to_end(key)
            return _TREES[key]
    if tree == "excluded":
        rows = select_rows(session, "SELECT a.row_no, a.asset_id, c.reason FROM asset a JOIN asset_credit_check c "
                                    "ON c.pack_id = a.pack_id AND c.row_no = a.row_no WHERE a.pack_id = :p "
                                    "AND c.eligible = :f ORDER BY a.row_no", {"p": pack.id, "f": False})
        values = [(as_bytes(asset_id), reason_id(reason or "ineligible")) for _, asset_id, reason in rows]
        built = StandardMerkleTree.of(values, EXCLUDED_LEAF)
    else:
        rows = select_rows(session, "SELECT a.row_no, a.asset_id, a.record_hash, s.score, s.level FROM asset a "
                                    "JOIN asset_score s ON s.pack_id = a.pack_id AND s.row_no = a.row_no "
                                    "JOIN asset_outcome o ON o.pack_id = a.pack_id AND o.row_no = a.row_no "
                                    "WHERE a.pack_id = :p AND o.outcome = :o ORDER BY a.row_no",
                           {"p": pack.id, "o": tree})
        ids = np.frombuffer(b"".join(as_bytes(r[1]) for r in rows), dtype=np.uint8).reshape(-1, 32)
        records = np.frombuffer(b"".join(as_bytes(r[2]) for r in rows), dtype=np.uint8).reshape(-1, 32)
        built = StandardMerkleTree.of_columns(
            [ids, records, np.asarray([r[3] for r in rows], dtype=np.uint8),
             np.asarray([r[4] for r in rows], dtype=np.uint8)], PACK_ASSET_LEAF)
    if built.root != expected:
        raise ConflictError(f"the stored {tree} assets of pack {pack.id} give root {built.root}, "
                            f"but {expected} was anchored: the database disagrees with the chain")
    entry = (built, {int(r[0]): position for position, r in enumerate(rows)})
    with _LOCK:
        _TREES[key] = entry
        while len(_TREES) > _CAPACITY:
            _TREES.popitem(last=False)
    return entry


def asset_proof(session: Session, pack: Pack, loan_id: str) -> AssetProof:
    claimed = select_rows(session, "SELECT row_no FROM loan_claim WHERE loan_id = :l AND pack_id = :p",
                          {"p": pack.id, "l": loan_id})
    if not claimed:  # a withdrawn pack no longer claims its loans: look through its rows
        claimed = select_rows(session, "SELECT row_no FROM asset WHERE pack_id = :p AND loan_id = :l",
                              {"p": pack.id, "l": loan_id})
    if not claimed:
        raise NotFoundError(f"pack {pack.id} holds no loan {loan_id!r}")
    row_no = claimed[0][0]
    outcome, reason = (select_rows(session, "SELECT outcome, reason FROM asset_outcome WHERE pack_id = :p "
                                            "AND row_no = :r", {"p": pack.id, "r": row_no}) or [(None, None)])[0]
    if outcome is None:
        raise ConflictError(f"pack {pack.id} is not filtered yet (step {pack.step}): no proof exists so far")
    tree, positions = _cached_tree(session, pack, outcome)
    position = positions[int(row_no)]
    leaf = list(tree.at(position))
    proof = tree.get_proof(position)
    encoding = EXCLUDED_LEAF if outcome == "excluded" else PACK_ASSET_LEAF
    shown = [to_hex32(value) if isinstance(value, bytes) else int(value) for value in leaf]
    if outcome == "excluded":
        verify = {"contract": "AssetPack", "function": "creditCheck", "args": [pack.chain_pack_id],
                  "compare": "excludedRoot equals root; then StandardMerkleTree.verify(root, leaf_encoding, leaf, "
                             "proof) (MerkleProof.verify with the double-hashed leaf)",
                  "reason_id": "keccak256(utf8(reason))"}
    else:
        verify = {"contract": "AssetPack", "function": "verifyAsset",
                  "args": [pack.chain_pack_id, outcome == "kept", *shown, proof]}
    return AssetProof(loan_id=loan_id, outcome=outcome, chain_pack_id=pack.chain_pack_id, tree=outcome,
                      root=tree.root, leaf_encoding=list(encoding), leaf=shown, proof=proof, reason=reason,
                      verify=verify)
