"""Keccak-256 in bulk for Merkle trees: leaf double-hashes, internal node layers, many rows.

A tree over 1,000,000 leaves needs about 3,000,000 Keccak permutations (two per leaf,
one per internal node). One Python call into safe-pysha3 costs ~1.4 us, most of it call
overhead; `chain.native` hashes whole batches in one C call (~0.17 us per permutation with
AVX2, ~0.4 us without) on several threads, which makes bulk hashing several times faster. Every bulk function here
takes that native path when `chain.native.available()` (the library is built and
``ABS_NATIVE_KECCAK`` is not 0), and otherwise the pure path: safe-pysha3 per hash, with
large batches split across forked worker processes that write their digests straight
into a shared anonymous mmap (no pickling). Both paths give the same bytes, and neither
depends on the number of workers.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import pairwise
from operator import methodcaller

import numpy as np

from chain import native

try:  # safe-pysha3 ships with web3[tester] (eth-tester's py-evm extra)
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - exercised only where safe-pysha3 is absent
    from Crypto.Hash import keccak as _pycryptodome_keccak

    def _keccak_256(data: bytes = b"") -> object:
        return _pycryptodome_keccak.new(data=data, digest_bits=256)


HASH_SIZE = 32
# Below this many hashes a fork costs more than it saves.
PARALLEL_THRESHOLD = 1 << 15

_digest = methodcaller("digest")


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not SHA3-256) of `data`."""
    return _keccak_256(data).digest()


def sorted_pair_hash(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's node hash: keccak256 of the two children, smaller first (as bytes)."""
    return _keccak_256(a + b if a <= b else b + a).digest()


def default_workers() -> int:
    """Number of CPUs this process may run on; 1 where fork is unavailable."""
    if not hasattr(os, "fork"):
        return 1
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def native_keccak_available() -> bool:
    """True if bulk hashing takes the native path now (see `chain.native.available`)."""
    return native.available()


def keccak256_many(rows: Sequence[bytes], workers: int | None = None) -> bytes:
    """keccak256 of each row (any lengths), the 32-byte digests back to back.

    Native: chunks of rows hashed in C on `workers` threads (default: every CPU). Pure: one
    safe-pysha3 call per row.
    """
    if native.available():
        listed = rows if hasattr(rows, "__len__") else list(rows)
        return native.keccak256_rows(listed, thread_count(workers)).tobytes()
    return b"".join(map(_digest, map(_keccak_256, rows)))


def keccak256_packed(data: bytes | memoryview | np.ndarray, offsets: np.ndarray, workers: int | None = None) -> bytes:
    """keccak256 of rows packed back to back: row i is data[offsets[i]:offsets[i + 1]] (Arrow's
    string layout). Native on threads, or one safe-pysha3 call per row."""
    if native.available():
        return native.keccak256_packed(data, offsets, thread_count(workers)).tobytes()
    raw = bytes(memoryview(data).cast("B")) if not isinstance(data, bytes) else data
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    return b"".join(_keccak_256(raw[start:stop]).digest() for start, stop in pairwise(bounds))


def double_keccak_matrix(encoded: np.ndarray, workers: int | None = None) -> bytes:
    """keccak256(keccak256(row)) of each row of an (n, width) uint8 array, concatenated.

    The leaf hashes of ABI-encoded static rows (`chain.merkle_values.encode_static_columns`).
    """
    count, width = encoded.shape
    if native.available():
        return native.double_keccak256_fixed(encoded, width, thread_count(workers)).tobytes()
    return double_keccak_encoded(count, lambda start, stop: split_rows(encoded[start:stop].tobytes(), width), workers)


def _double_keccak_rows(rows: Iterable[bytes]) -> bytes:
    if native.available():
        listed = rows if isinstance(rows, (list, tuple)) else list(rows)
        return native.double_keccak256_rows(listed).tobytes()
    return b"".join(map(_digest, map(_keccak_256, map(_digest, map(_keccak_256, rows)))))


def split_rows(encoded: bytes, width: int) -> Iterator[bytes]:
    """The consecutive `width`-byte rows of `encoded`."""
    if width <= 0 or len(encoded) % width:
        raise ValueError(f"encoded length {len(encoded)} is not a multiple of the row width {width}")
    offsets = range(0, len(encoded), width)
    return map(encoded.__getitem__, map(slice, offsets, range(width, len(encoded) + width, width)))


def double_keccak_rows(rows: Sequence[bytes], workers: int | None = None) -> bytes:
    """keccak256(keccak256(row)) for each row (any lengths), concatenated."""
    return double_keccak_encoded(len(rows), lambda start, stop: rows[start:stop], workers)


def double_keccak_encoded(
    count: int, encode_range: Callable[[int, int], Iterable[bytes]], workers: int | None = None
) -> bytes:
    """keccak256(keccak256(row)) for rows 0..count-1, concatenated.

    `encode_range(start, stop)` yields the encoded rows start..stop-1; with several
    workers it runs in each worker on its own range, so encoding is parallel too. Each
    range is hashed natively when available; a batch too small to fork is hashed on
    `workers` threads instead.
    """
    if native.available() and _effective_workers(count, workers) == 1:
        rows = encode_range(0, count)
        listed = rows if isinstance(rows, (list, tuple)) else list(rows)
        return native.double_keccak256_rows(listed, thread_count(workers)).tobytes()
    return _hash_rows_in_parallel(count, lambda start, stop: _double_keccak_rows(encode_range(start, stop)), workers)


def hash_rows_in_parallel(count: int, hash_range: Callable[[int, int], bytes], workers: int | None = None) -> bytes:
    """``hash_range(0, count)``, computed in ranges by forked workers when ``count`` is large.

    ``hash_range(start, stop)`` must return the 32-byte hashes of rows start..stop-1 back to back.
    """
    return _hash_rows_in_parallel(count, hash_range, workers)


def _hash_rows_in_parallel(count: int, hash_range: Callable[[int, int], bytes], workers: int | None) -> bytes:
    workers = _effective_workers(count, workers)
    if workers == 1:
        return hash_range(0, count)
    bounds = [count * part // workers for part in range(workers + 1)]
    with mmap.mmap(-1, count * HASH_SIZE) as shared:

        def task(part: int) -> Callable[[], None]:
            start, stop = bounds[part], bounds[part + 1]

            def run() -> None:
                shared[start * HASH_SIZE : stop * HASH_SIZE] = hash_range(start, stop)

            return run

        run_forked([task(part) for part in range(workers)])
        return shared[:]


def build_node_layers(sorted_leaves: bytes, workers: int | None = None) -> bytes:
    """The array-backed tree of `@openzeppelin/merkle-tree` as 32-byte nodes, root first.

    `sorted_leaves` holds n leaf hashes in tree order; node i of the result has its
    children at 2i+1 and 2i+2 and the leaves sit reversed at the end (index 2n-2-i for
    leaf i), exactly as `makeMerkleTree` lays them out.
    """
    leaf_count = len(sorted_leaves) // HASH_SIZE
    if leaf_count == 0 or len(sorted_leaves) % HASH_SIZE:
        raise ValueError("expected a non-zero number of 32-byte leaves")
    node_count = 2 * leaf_count - 1
    internal_count = leaf_count - 1
    leaves = np.frombuffer(sorted_leaves, dtype=np.uint8).reshape(leaf_count, HASH_SIZE)
    if native.available():  # whole subtrees per C call, on threads
        nodes = np.empty((node_count, HASH_SIZE), dtype=np.uint8)
        nodes[internal_count:] = leaves[::-1]
        native.hash_tree(nodes, thread_count(workers))
        return nodes.tobytes()
    reversed_leaves = leaves[::-1].tobytes()
    workers = _effective_workers(internal_count, workers)
    with mmap.mmap(-1, node_count * HASH_SIZE) as tree:
        tree[internal_count * HASH_SIZE :] = reversed_leaves
        # Split below the top so each worker owns whole subtrees; the few nodes above
        # the split are hashed here afterwards.
        split_depth = (workers - 1).bit_length() if workers > 1 else 0
        first_root = (1 << split_depth) - 1
        roots = [root for root in range(first_root, 2 * first_root + 1) if root < internal_count]
        if not roots:
            split_depth, first_root, roots = 0, 0, [0]
        groups = [roots[len(roots) * part // workers : len(roots) * (part + 1) // workers] for part in range(workers)]
        run_forked(
            [
                (lambda first=group[0], last=group[-1]: _hash_subtrees(tree, first, last, internal_count))
                for group in groups
                if group
            ]
        )
        for depth in range(split_depth - 1, -1, -1):
            _hash_node_range(tree, (1 << depth) - 1, min((2 << depth) - 1, internal_count))
        return tree[:]


def _hash_subtrees(tree: mmap.mmap, first_root: int, last_root: int, internal_count: int) -> None:
    """Hash every internal node under the sibling subtrees rooted at first_root..last_root."""
    depth = 0
    while ((first_root + 1) << depth) - 1 < internal_count:
        depth += 1
    for relative_depth in range(depth - 1, -1, -1):
        low = ((first_root + 1) << relative_depth) - 1
        high = min(((last_root + 2) << relative_depth) - 1, internal_count)
        if low < high:
            _hash_node_range(tree, low, high)


def _hash_node_range(tree: mmap.mmap, low: int, high: int) -> None:
    """Hash nodes low..high-1 (one depth of the tree) from their already-hashed children."""
    children = tree[(2 * low + 1) * HASH_SIZE : (2 * high + 1) * HASH_SIZE]
    hashes: list[bytes] = []
    append = hashes.append
    for offset in range(0, len(children), 2 * HASH_SIZE):  # a plain loop beats map() over two slice lists here
        left = children[offset : offset + HASH_SIZE]
        right = children[offset + HASH_SIZE : offset + 2 * HASH_SIZE]
        append(_keccak_256(left + right if left <= right else right + left).digest())
    tree[low * HASH_SIZE : high * HASH_SIZE] = b"".join(hashes)


def thread_count(workers: int | None) -> int:
    """Threads for the native path: `workers`, or every CPU (`default_workers`) when None."""
    if workers is None:
        return default_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return workers


def _effective_workers(count: int, workers: int | None) -> int:
    if workers is None:
        workers = default_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if count < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return 1
    return min(workers, max(1, count // (PARALLEL_THRESHOLD // 2)))


def run_forked(tasks: Sequence[Callable[[], None]]) -> None:
    """Run tasks[0] here and the rest in forked children; all of them must only write shared memory.

    A child that fails (killed, out of memory, fork refused) has its task rerun here: the
    tasks are deterministic, so the result is the same, only slower.
    """
    children: list[tuple[int, Callable[[], None]]] = []
    pending: list[Callable[[], None]] = []
    for task in tasks[1:]:
        try:
            pid = os.fork()
        except OSError:
            pending.append(task)
            continue
        if pid == 0:  # child: no cleanup handlers, no stdio flush, just the task
            exit_code = 1
            try:
                task()
                exit_code = 0
            finally:
                os._exit(exit_code)
        children.append((pid, task))
    try:
        if tasks:
            tasks[0]()
    finally:
        for pid, task in children:
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                pending.append(task)
    for task in pending:
        task()


def sorted_leaf_order(hashes: np.ndarray) -> np.ndarray:
    """Positions of (n, 32) uint8 leaf hashes sorted as 256-bit numbers, ties by position.

    This is the JavaScript library's order: Array.prototype.sort is stable.
    """
    leading = np.ascontiguousarray(hashes[:, :8]).view(">u8").ravel()
    order = np.argsort(leading)  # unstable but fast; equal leading words are resolved below
    sorted_leading = leading[order]
    ties = np.flatnonzero(sorted_leading[1:] == sorted_leading[:-1])
    if ties.size:
        run_starts = ties[np.r_[True, ties[1:] != ties[:-1] + 1]]
        for start in run_starts:
            stop = start + 1
            while stop < len(order) and sorted_leading[stop] == sorted_leading[start]:
                stop += 1
            members = order[start:stop]
            order[start:stop] = sorted(members, key=lambda position: (hashes[position].tobytes(), position))
    return order
