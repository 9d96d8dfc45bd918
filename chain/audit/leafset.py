"""Authenticated leaf sets: which rows a committed Merkle root really holds.

A bundle publishes, for each tree, its leaf hashes (the leaf layer of the platform's tree).
Rebuilding a tree from them and comparing its root with the chain's authenticates the whole
set at once, in O(n); a row of the bundle is then in the committed tree if and only if its own
leaf hash is in that set. This is what checking every row's Merkle proof establishes, at 32
bytes per row instead of 32 x log2(n), and it names every forged row: its leaf is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chain.merkle import StandardMerkleTree
from chain.merkle_hashing import HASH_SIZE, build_node_layers, sorted_leaf_order
from chain.merkle_proofs import node_bytes, to_hex

ZERO_ROOT = "0x" + "00" * 32


def root_of_leaf_hashes(leaf_hashes: Sequence[str | bytes]) -> str:
    """The StandardMerkleTree root over these leaf hashes (any order); the zero root if none."""
    if not leaf_hashes:
        return ZERO_ROOT
    raw = b"".join(node_bytes(h) for h in leaf_hashes)
    hashes = np.frombuffer(raw, dtype=np.uint8).reshape(len(leaf_hashes), HASH_SIZE)
    return to_hex(build_node_layers(hashes[sorted_leaf_order(hashes)].tobytes())[:HASH_SIZE])


def tree_of(columns: Sequence[Any], encoding: Sequence[str]) -> StandardMerkleTree | None:
    """The tree over rows given as columns, or None for no rows (the chain's zero root)."""
    if not len(columns[0]):
        return None
    return StandardMerkleTree.of_columns(list(columns), encoding)


def root_of(tree: StandardMerkleTree | None) -> str:
    return ZERO_ROOT if tree is None else tree.root


def leaf_hashes_of(tree: StandardMerkleTree | None) -> list[str]:
    """Each row's leaf hash, in the order of the rows the tree was built from."""
    if tree is None:
        return []
    dump = tree.dump()
    return [dump["tree"][value["treeIndex"]] for value in dump["values"]]


def published_leaves(tree: StandardMerkleTree | None) -> list[str]:
    """The leaf layer the platform publishes for ``tree`` (sorted, as in the tree)."""
    return sorted(leaf_hashes_of(tree))


def authenticated_set(published: Sequence[str] | None, committed_root: str | None) -> frozenset[str] | None:
    """The published leaf layer as a set, if it gives the committed root; else None (nothing proven)."""
    if published is None or committed_root is None:
        return None
    if root_of_leaf_hashes(list(published)).lower() != committed_root.lower():
        return None
    return frozenset(h.lower() for h in published)


def row_leaf_hashes(columns: Sequence[Any], encoding: Sequence[str]) -> list[str]:
    """Each row's leaf hash (lower-case hex), in row order."""
    return [h.lower() for h in leaf_hashes_of(tree_of(columns, encoding))]


def first_committed(columns: Sequence[Any], encoding: Sequence[str], committed: frozenset[str]) -> int | None:
    """Index of the first candidate row whose leaf the committed set holds (candidates as columns)."""
    for index, leaf in enumerate(row_leaf_hashes(columns, encoding)):
        if leaf in committed:
            return index
    return None
