"""The Merkle trees of monitoring: a product's pool (pack-asset leaves) and a measure's subjects.

The pool's leaf is the pack commitment's (asset id, loan-record hash, score, level), with the
score and level at which the asset entered the pool; at issuance the pool's root is the kept
root. A measure's subjects are the asset ids it concerns (leaf ``["bytes32"]``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from api.orchestrator.pipeline.steps import pack_asset_tree
from chain.leaves import PACK_ASSET_LEAF
from chain.merkle import StandardMerkleTree

SUBJECT_LEAF = ("bytes32",)  # an asset id (PackMonitor.verifyMeasureSubject)


def _matrix(values: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 32)


def pool_tree(asset_ids: Sequence[bytes], record_hashes: Sequence[bytes], scores: Sequence[int],
              levels: Sequence[int]) -> StandardMerkleTree:
    tree = pack_asset_tree(_matrix(asset_ids), _matrix(record_hashes), np.asarray(scores, dtype=np.int64),
                           np.asarray(levels, dtype=np.int64))
    if tree is None:
        raise ValueError("a pool needs at least one asset")
    return tree


def pack_root(asset_ids: Sequence[bytes], record_hashes: Sequence[bytes], scores: Sequence[int],
              levels: Sequence[int]) -> str:
    return pool_tree(asset_ids, record_hashes, scores, levels).root


def pool_proof(tree: StandardMerkleTree, asset_id: bytes, record_hash: bytes, score: int, level: int) -> list[str]:
    return tree.get_proof((asset_id, record_hash, int(score), int(level)))


def subject_tree(asset_ids: Sequence[bytes]) -> StandardMerkleTree:
    return StandardMerkleTree.of_columns([_matrix(asset_ids)], SUBJECT_LEAF)


__all__ = ["PACK_ASSET_LEAF", "SUBJECT_LEAF", "pack_root", "pool_proof", "pool_tree", "subject_tree"]
