"""What the bureau commits for a batch: a fresh salt per record, the salted record hashes and
the OpenZeppelin ``StandardMerkleTree`` over them (leaf encoding ``CREDIT_LEAF``).

The plan is computed first and touches neither the database nor the chain (functional core);
the service then stores it and sends its root. The tree is built from the same primitives as
``chain.merkle.StandardMerkleTree`` (tests check root and proofs against it) so that its node
array can be stored and proofs sliced from it later.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from api.bureau.intake import CanonicalRecords
from api.errors import InvalidInputError
from chain.leaves import salted_record_hashes
from chain.merkle_hashing import HASH_SIZE, build_node_layers, double_keccak_encoded, sorted_leaf_order, split_rows
from chain.merkle_proofs import proof_for, to_hex


@dataclass(frozen=True)
class BatchPlan:
    records: CanonicalRecords
    salts: bytes  # 32 bytes per record, in record order
    salted_hashes: bytes  # the leaf values, 32 bytes per record
    nodes: bytes  # the array-backed tree, root first
    tree_indices: np.ndarray  # node position of each record's leaf
    as_of: dt.date

    @property
    def root(self) -> str:
        return to_hex(self.nodes[:HASH_SIZE])

    @property
    def record_count(self) -> int:
        return len(self.records)

    def rows(self, batch_pk: int) -> Iterator[tuple]:
        """Database rows of ``bureau_record``, in column order of ``store.RECORD_COLUMNS``."""
        records = self.records
        salts = _hex_rows(self.salts)
        hashes = _hex_rows(self.salted_hashes)
        dates = np.datetime_as_string(records.record_dates, unit="D").tolist()  # ISO text: SQLite's and COPY's form
        return zip(
            repeat(batch_pk, len(records)),
            range(len(records)),
            self.tree_indices.tolist(),
            records.borrower_ids,
            dates,
            salts,
            hashes,
            records.record_json,
        )


def _hex_rows(data: bytes) -> list[str]:
    text = data.hex()
    return ["0x" + text[start : start + 2 * HASH_SIZE] for start in range(0, len(text), 2 * HASH_SIZE)]


def credit_tree(salted_hashes: bytes) -> tuple[bytes, np.ndarray]:
    """(tree nodes, tree index of each leaf) of the StandardMerkleTree over ``CREDIT_LEAF`` values.

    A ``bytes32`` value ABI-encodes as itself, so each leaf is keccak256(keccak256(value)).
    """
    count = len(salted_hashes) // HASH_SIZE
    if count == 0 or len(salted_hashes) % HASH_SIZE:
        raise ValueError("a credit tree needs at least one 32-byte salted hash")
    leaves = double_keccak_encoded(
        count, lambda start, stop: split_rows(salted_hashes[start * HASH_SIZE : stop * HASH_SIZE], HASH_SIZE)
    )
    hashes = np.frombuffer(leaves, dtype=np.uint8).reshape(count, HASH_SIZE)
    order = sorted_leaf_order(hashes)
    nodes = build_node_layers(hashes[order].tobytes())
    tree_indices = np.empty(count, dtype=np.int64)
    tree_indices[order] = (2 * count - 2) - np.arange(count)
    return nodes, tree_indices


def proof_from_nodes(nodes: bytes, tree_index: int) -> list[str]:
    """Sibling hashes from a leaf up to the root, as ``StandardMerkleTree.get_proof`` gives them."""
    return proof_for(lambda index: nodes[index * HASH_SIZE : (index + 1) * HASH_SIZE], tree_index)


def plan_batch(records: CanonicalRecords, as_of: dt.date | None = None, *, salts: bytes | None = None) -> BatchPlan:
    """Salts, salted hashes and tree of a validated batch; ``as_of`` defaults to its newest record date."""
    count = len(records)
    newest = records.record_dates.max().astype(dt.date)
    if as_of is None:
        as_of = newest
    elif as_of < newest:
        raise InvalidInputError(f"the batch's as-of date {as_of} precedes its newest record ({newest})")
    salts = secrets.token_bytes(HASH_SIZE * count) if salts is None else salts
    salted = salted_record_hashes(salts, [text.encode() for text in records.record_json])
    nodes, tree_indices = credit_tree(salted)
    return BatchPlan(records, salts, salted, nodes, tree_indices, as_of)


def as_of_seconds(as_of: dt.date) -> int:
    """The on-chain ``asOf`` (uint64 seconds): midnight UTC of the batch's as-of day."""
    return int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.timezone.utc).timestamp())


def date_of_seconds(seconds: int) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()


def leaf_tree_indices(nodes: bytes, values: list[bytes]) -> list[int | None]:
    """Tree index of the leaf holding each salted hash in ``values`` (None if not a leaf).

    Found from the tree alone, never from the database's rows: the leaves sit at the end of the
    node array in descending hash order, so each is a binary search away.
    """
    count = (len(nodes) // HASH_SIZE + 1) // 2
    ascending = np.frombuffer(nodes, dtype=np.uint8)[(count - 1) * HASH_SIZE :].reshape(count, HASH_SIZE)[::-1]
    prefixes = np.ascontiguousarray(ascending[:, :8]).view(">u8").ravel()
    leaf_hashes = double_keccak_encoded(len(values), lambda start, stop: values[start:stop]) if values else b""
    found: list[int | None] = []
    for position in range(len(values)):
        leaf = leaf_hashes[position * HASH_SIZE : (position + 1) * HASH_SIZE]
        prefix = int.from_bytes(leaf[:8], "big")
        index = int(np.searchsorted(prefixes, prefix))
        while index < count and prefixes[index] == prefix and ascending[index].tobytes() != leaf:
            index += 1
        hit = index < count and ascending[index].tobytes() == leaf
        found.append(2 * count - 2 - index if hit else None)
    return found
