"""OpenZeppelin's StandardMerkleTree (`@openzeppelin/merkle-tree` 1.0.x) in Python, bit for bit.

Same rules as the JavaScript library, so roots and proofs are interchangeable with it
and with `MerkleProof.sol`:

- leaf = keccak256(keccak256(abi.encode(values)));
- leaves sorted by hash (ties keep input order, as JavaScript's stable sort does);
- an array-backed complete binary tree: node i has children 2i+1 and 2i+2, leaf i of
  the sorted order sits at 2n-2-i, and a node is keccak256 of its two children with
  the smaller (as a 256-bit number) first;
- proofs list sibling hashes from the leaf up; dumps use the `standard-v1` JSON format.

Building is fast for large trees: `of_columns` encodes static-typed columns with numpy
and hashing runs natively (batch C Keccak) on every core where the library is built, in
forked pure-Python workers otherwise (see `chain.merkle_hashing` and `chain.native`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from chain.merkle_hashing import (
    HASH_SIZE,
    build_node_layers,
    double_keccak_encoded,
    double_keccak_matrix,
    keccak256,
    native_keccak_available,
    sorted_leaf_order,
    split_rows,
)
from chain.merkle_proofs import (
    MultiProof,
    multi_proof_for,
    node_bytes,
    process_multi_proof,
    process_proof,
    proof_for,
    to_hex,
    verify_proof,
)
from chain.merkle_values import (
    WORD,
    ColumnRows,
    MerkleTreeError,
    canonical_row,
    check_column_lengths,
    encode_row,
    encode_rows,
    encode_static_columns,
    is_static_scalar,
    json_value,
    parse_leaf_encoding,
)

__all__ = [
    "MerkleTreeError",
    "MultiProof",
    "StandardMerkleTree",
    "process_multi_proof",
    "process_proof",
    "standard_leaf_hash",
    "verify_proof",
]

DUMP_FORMAT = "standard-v1"


def standard_leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> str:
    """keccak256(keccak256(abi.encode(value))) as 0x-hex."""
    nodes = parse_leaf_encoding(leaf_encoding)
    return to_hex(_leaf_hash_bytes(leaf_encoding, nodes, canonical_row(nodes, value)))


def _leaf_hash_bytes(leaf_encoding: Sequence[str], nodes: Sequence[Any], row: tuple[Any, ...]) -> bytes:
    return keccak256(keccak256(encode_row(leaf_encoding, nodes, row)))


class StandardMerkleTree:
    """A Merkle tree over ABI-typed rows; build with `of`, `of_columns` or `load`."""

    def __init__(
        self, tree: bytes, values: Sequence[tuple[Any, ...]], tree_indices: np.ndarray, leaf_encoding: Sequence[str]
    ) -> None:
        self._tree = tree
        self._values = values
        self._tree_indices = tree_indices
        self._leaf_encoding = tuple(leaf_encoding)
        self._nodes = parse_leaf_encoding(leaf_encoding)
        self._hash_lookup: dict[bytes, int] | None = None

    # -- building ---------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        values: Sequence[Sequence[Any]],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
        workers: int | None = None,
    ) -> StandardMerkleTree:
        """Build a tree over rows, one value per type of `leaf_encoding`."""
        nodes = parse_leaf_encoding(leaf_encoding)
        rows = [canonical_row(nodes, row) for row in values]
        leaf_hashes = double_keccak_encoded(
            len(rows), lambda start, stop: encode_rows(leaf_encoding, nodes, rows[start:stop]), workers
        )
        return cls._from_leaf_hashes(leaf_hashes, rows, leaf_encoding, sort_leaves, workers)

    @classmethod
    def of_columns(
        cls,
        columns: Sequence[Any],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
        workers: int | None = None,
    ) -> StandardMerkleTree:
        """Build a tree over rows given as columns (numpy arrays or lists), one per type.

        Static scalar types take a vectorised path: integer columns as numpy integer
        arrays, address and bytesN columns as (n, 20) / (n, N) uint8 arrays, bool columns
        as bool arrays. Lists work too (a Python call per value). Other types
        (string, bytes, arrays, tuples) are encoded row by row.
        """
        nodes = parse_leaf_encoding(leaf_encoding)
        if not all(is_static_scalar(node) for node in nodes):
            if len(columns) != len(nodes):
                raise MerkleTreeError(f"expected {len(nodes)} columns, got {len(columns)}")
            return cls.of(list(zip(*columns)), leaf_encoding, sort_leaves=sort_leaves, workers=workers)
        count = check_column_lengths(nodes, columns)
        if count == 0:
            raise MerkleTreeError("Expected non-zero number of leaves")
        width = WORD * len(nodes)
        if native_keccak_available() and all(isinstance(column, np.ndarray) for column in columns):
            # One numpy encoding of the whole matrix, one threaded native pass over it.
            leaf_hashes = double_keccak_matrix(encode_static_columns(nodes, columns), workers)
            return cls._from_leaf_hashes(leaf_hashes, ColumnRows(nodes, columns), leaf_encoding, sort_leaves, workers)

        def encode_range(start: int, stop: int) -> Iterable[bytes]:
            encoded = encode_static_columns(nodes, [column[start:stop] for column in columns])
            return split_rows(encoded.tobytes(), width)

        leaf_hashes = double_keccak_encoded(count, encode_range, workers)
        return cls._from_leaf_hashes(leaf_hashes, ColumnRows(nodes, columns), leaf_encoding, sort_leaves, workers)

    @classmethod
    def _from_leaf_hashes(
        cls,
        leaf_hashes: bytes,
        values: Sequence[tuple[Any, ...]],
        leaf_encoding: Sequence[str],
        sort_leaves: bool,
        workers: int | None,
    ) -> StandardMerkleTree:
        count = len(leaf_hashes) // HASH_SIZE
        if count == 0:
            raise MerkleTreeError("Expected non-zero number of leaves")
        hashes = np.frombuffer(leaf_hashes, dtype=np.uint8).reshape(count, HASH_SIZE)
        order = sorted_leaf_order(hashes) if sort_leaves else np.arange(count)
        # np.take gathers rows several times faster than fancy indexing (hashes[order]).
        tree = build_node_layers(np.take(hashes, order, axis=0).tobytes(), workers)
        tree_indices = np.empty(count, dtype=np.int64)
        tree_indices[order] = (2 * count - 2) - np.arange(count)
        return cls(tree, values, tree_indices, leaf_encoding)

    # -- reading ----------------------------------------------------------------------

    @property
    def root(self) -> str:
        return to_hex(self._node(0))

    @property
    def leaf_encoding(self) -> tuple[str, ...]:
        return self._leaf_encoding

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> tuple[Any, ...]:
        """The row at position `index` of the values the tree was built from."""
        self._check_index(index)
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        for index in range(len(self._values)):
            yield index, self._values[index]

    def tree_index(self, index: int) -> int:
        """Where the leaf of value `index` sits in the array-backed tree."""
        self._check_index(index)
        return int(self._tree_indices[index])

    def leaf_hash(self, value: Sequence[Any]) -> str:
        return to_hex(_leaf_hash_bytes(self._leaf_encoding, self._nodes, canonical_row(self._nodes, value)))

    def leaf_lookup(self, value: Sequence[Any]) -> int:
        """Position of `value` among the tree's values (the last one, for duplicated values)."""
        if self._hash_lookup is None:
            self._hash_lookup = {
                self._node(int(tree_index)): index for index, tree_index in enumerate(self._tree_indices)
            }
        found = self._hash_lookup.get(node_bytes(self.leaf_hash(value)))
        if found is None:
            raise MerkleTreeError("Leaf is not in tree")
        return found

    def get_proof(self, leaf: int | Sequence[Any]) -> list[str]:
        """Sibling hashes from the leaf up to the root, for a value or its position."""
        index = self._value_index(leaf)
        self._validate_value_at(index)
        proof = proof_for(self._node, int(self._tree_indices[index]))
        if process_proof(self._node(int(self._tree_indices[index])), proof) != self.root:
            raise MerkleTreeError("Unable to prove value")
        return proof

    def get_multi_proof(self, leaves: Sequence[int | Sequence[Any]]) -> MultiProof:
        """One proof for several values (or positions), in the JavaScript library's layout."""
        value_indices = [self._value_index(leaf) for leaf in leaves]
        for index in value_indices:
            self._validate_value_at(index)
        by_tree_index = {int(self._tree_indices[index]): index for index in value_indices}
        tree_indices, proof, flags = multi_proof_for(self._node, list(by_tree_index))
        if len(by_tree_index) != len(value_indices):
            raise MerkleTreeError("Cannot prove duplicated index")
        multiproof = MultiProof(
            leaves=tuple(self._values[by_tree_index[tree_index]] for tree_index in tree_indices),
            proof=tuple(proof),
            proof_flags=tuple(flags),
        )
        if not self.verify_multi_proof(self.root, self._leaf_encoding, multiproof):
            raise MerkleTreeError("Unable to prove values")
        return multiproof

    @staticmethod
    def verify(
        root: str | bytes, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[str | bytes]
    ) -> bool:
        """True if `proof` proves `value` under `root` (no tree needed)."""
        return verify_proof(root, standard_leaf_hash(leaf_encoding, value), proof)

    @staticmethod
    def verify_multi_proof(root: str | bytes, leaf_encoding: Sequence[str], multiproof: MultiProof) -> bool:
        """True if a multiproof over values holds under `root`."""
        leaves = [standard_leaf_hash(leaf_encoding, value) for value in multiproof.leaves]
        return node_bytes(root) == node_bytes(process_multi_proof(leaves, multiproof.proof, multiproof.proof_flags))

    # -- persistence ------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The `standard-v1` JSON object the JavaScript library's `dump()` produces."""
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(self._leaf_encoding),
            "tree": [to_hex(self._node(index)) for index in range(len(self._tree) // HASH_SIZE)],
            "values": [
                {
                    "value": [json_value(node, item) for node, item in zip(self._nodes, row)],
                    "treeIndex": int(tree_index),
                }
                for row, tree_index in zip(self._values, self._tree_indices)
            ],
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Rebuild a tree from a `standard-v1` dump (ours or the JavaScript library's) and validate it."""
        if data.get("format") != DUMP_FORMAT:
            raise MerkleTreeError(f"Unknown format {data.get('format')!r}")
        if data.get("leafEncoding") is None:
            raise MerkleTreeError("Expected leaf encoding")
        leaf_encoding = list(data["leafEncoding"])
        nodes = parse_leaf_encoding(leaf_encoding)
        tree = b"".join(node_bytes(node) for node in data.get("tree", []))
        entries = data.get("values", [])
        rows = [canonical_row(nodes, entry["value"]) for entry in entries]
        tree_indices = np.array([int(entry["treeIndex"]) for entry in entries], dtype=np.int64)
        loaded = cls(tree, rows, tree_indices, leaf_encoding)
        loaded.validate()
        return loaded

    def validate(self) -> None:
        """Check every value hashes to its leaf and every node to its children."""
        node_count = len(self._tree) // HASH_SIZE
        if node_count == 0 or node_count % 2 == 0:
            raise MerkleTreeError("Merkle tree is invalid: it must have 2n-1 nodes")
        leaf_count = (node_count + 1) // 2
        first_leaf = leaf_count - 1
        indices = self._tree_indices
        points_outside = indices.size and (indices.min() < first_leaf or indices.max() >= node_count)
        if indices.size != len(self._values) or points_outside:
            raise MerkleTreeError("Merkle tree is invalid: a value does not point at a leaf")
        hashes = double_keccak_encoded(
            len(self._values),
            lambda start, stop: encode_rows(self._leaf_encoding, self._nodes, self._values[start:stop]),
        )
        for position, tree_index in enumerate(indices):
            if hashes[position * HASH_SIZE : (position + 1) * HASH_SIZE] != self._node(int(tree_index)):
                raise MerkleTreeError("Merkle tree does not contain the expected value")
        leaves = np.frombuffer(self._tree, dtype=np.uint8)[first_leaf * HASH_SIZE :].reshape(leaf_count, HASH_SIZE)
        if build_node_layers(leaves[::-1].tobytes()) != self._tree:
            raise MerkleTreeError("Merkle tree is invalid")

    # -- internals --------------------------------------------------------------------

    def _node(self, tree_index: int) -> bytes:
        return self._tree[tree_index * HASH_SIZE : (tree_index + 1) * HASH_SIZE]

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not 0 <= index < len(self._values):
            raise MerkleTreeError("Index out of bounds")

    def _value_index(self, leaf: int | Sequence[Any]) -> int:
        if isinstance(leaf, (int, np.integer)) and not isinstance(leaf, bool):
            self._check_index(int(leaf))
            return int(leaf)
        return self.leaf_lookup(leaf)

    def _validate_value_at(self, index: int) -> None:
        leaf = _leaf_hash_bytes(self._leaf_encoding, self._nodes, self._values[index])
        if leaf != self._node(int(self._tree_indices[index])):
            raise MerkleTreeError("Merkle tree does not contain the expected value")
