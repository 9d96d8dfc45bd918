"""Batch Keccak-256 in C: the ctypes loader and numpy-friendly wrappers over `keccak.c`.

The pure path (one safe-pysha3 call per hash, ~1.4 us) stays the reference and the fallback;
this module only makes bulk hashing cheaper: one C call hashes a whole chunk of rows, four
messages at a time on AVX2 CPUs (~0.17 us per Keccak-f permutation here, ~0.4 us on the
scalar path), and ctypes releases the GIL during the call, so chunks run on several threads
at once. Results never depend on the number of threads.

Whether to use it is decided at each call by `available()`: false when the environment sets
``ABS_NATIVE_KECCAK=0`` or when the library can neither be found nor built
(`chain.native.build`, tried once per process). Callers (`chain.merkle_hashing`,
`chain.leaves`) check it and keep their pure loop otherwise.

Wrappers take bytes-like objects or numpy arrays and return (n, 32) uint8 arrays.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ENV_SWITCH = "ABS_NATIVE_KECCAK"
HASH_SIZE = 32
# Rows per C call: small enough to balance threads and bound the joined copy of
# variable-length rows, large enough that the Python around each call is noise.
CHUNK_ROWS = 1 << 14
# Below this many internal nodes a tree is hashed in one call.
TREE_SPLIT_MIN = 1 << 14

_P, _I64 = ctypes.c_void_p, ctypes.c_int64
_SIGNATURES: dict[str, tuple[type, ...]] = {
    "abs_keccak256_fixed": (_P, _I64, _I64, _P),
    "abs_keccak256_var": (_P, _P, _I64, _P),
    "abs_double_keccak256_fixed": (_P, _I64, _I64, _P),
    "abs_double_keccak256_var": (_P, _P, _I64, _P),
    "abs_salted_hashes": (_P, _P, _P, _I64, _P),
    "abs_tree_nodes": (_P, _I64, _I64),
    "abs_tree_subtrees": (_P, _I64, _I64, _I64),
    "abs_keccak_lanes": (),
}

_load_lock = threading.Lock()
_loaded: list[ctypes.CDLL | None] = []  # empty until the first load attempt


def library() -> ctypes.CDLL | None:
    """The loaded library, building it first if it is missing; None if that is impossible."""
    if not _loaded:
        with _load_lock:
            if not _loaded:
                _loaded.append(_load())
    return _loaded[0]


def _load() -> ctypes.CDLL | None:
    from chain.native import build  # here, so `python -m chain.native.build` runs without importing it twice

    try:
        path = build.library_path()
        return open_library(path if path.exists() else build.build())
    except (build.NativeBuildError, OSError, AttributeError):
        return None


def open_library(path: os.PathLike[str] | str) -> ctypes.CDLL:
    """Load a build of keccak.c and declare its functions' signatures."""
    lib = ctypes.CDLL(os.fspath(path))
    for name, argtypes in _SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = ctypes.c_int if name == "abs_keccak_lanes" else None
    return lib


def enabled() -> bool:
    """False when ``ABS_NATIVE_KECCAK`` is 0/false/no/off (read at every call)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def available() -> bool:
    """True if the native path is enabled and its library loads."""
    return enabled() and library() is not None


def lanes() -> int:
    """States the library permutes at once on this CPU: 4 (AVX2 path), 1 (scalar), 0 (no library)."""
    lib = library()
    return int(lib.abs_keccak_lanes()) if lib is not None else 0


def _lib() -> ctypes.CDLL:
    lib = library()
    if lib is None:
        raise RuntimeError("the native Keccak library is not available; check chain.native.available() first")
    return lib


# -- wrappers ---------------------------------------------------------------------------


def keccak256_fixed(data: object, width: int, workers: int = 1) -> np.ndarray:
    """keccak256 of each consecutive `width`-byte row of `data`."""
    return _fixed("abs_keccak256_fixed", data, width, workers)


def double_keccak256_fixed(data: object, width: int, workers: int = 1) -> np.ndarray:
    """keccak256(keccak256(row)) of each consecutive `width`-byte row: StandardMerkleTree leaves."""
    return _fixed("abs_double_keccak256_fixed", data, width, workers)


def keccak256_rows(rows: Sequence[bytes], workers: int = 1) -> np.ndarray:
    """keccak256 of each row (any lengths)."""
    function = _lib().abs_keccak256_var
    return _var(rows, lambda data, offsets, count, out, start: function(data, offsets, count, out), workers)


def keccak256_packed(data: object, offsets: np.ndarray, workers: int = 1) -> np.ndarray:
    """keccak256 of rows packed back to back in `data`: row i is data[offsets[i]:offsets[i + 1]].

    The layout of an Arrow (large) string array's buffers, so a million strings built in Arrow
    are hashed without becoming a million Python objects.
    """
    array = _bytes_view(data)
    bounds = np.ascontiguousarray(offsets, dtype=np.int64)
    count = bounds.size - 1
    if count < 0 or (count and (bounds[0] < 0 or bounds[-1] > array.size or (np.diff(bounds) < 0).any())):
        raise ValueError("offsets must rise from 0 or more to at most the length of the data")
    out = np.empty((max(count, 0), HASH_SIZE), dtype=np.uint8)
    function = _lib().abs_keccak256_var
    source, starts, target = array.ctypes.data, bounds.ctypes.data, out.ctypes.data
    _in_chunks(count, lambda start, stop: function(source, starts + 8 * start, stop - start,
                                                   target + HASH_SIZE * start), workers)
    return out


def double_keccak256_rows(rows: Sequence[bytes], workers: int = 1) -> np.ndarray:
    """keccak256(keccak256(row)) of each row (any lengths)."""
    function = _lib().abs_double_keccak256_var
    return _var(rows, lambda data, offsets, count, out, start: function(data, offsets, count, out), workers)


def salted_hashes(salts: bytes, rows: Sequence[bytes], workers: int = 1) -> np.ndarray:
    """keccak256(salt_i ‖ keccak256(row_i)), with the 32-byte salts back to back in `salts`."""
    salt_array = _bytes_view(salts)
    if salt_array.size != HASH_SIZE * len(rows):
        raise ValueError(f"expected {len(rows)} salts of 32 bytes, got {salt_array.size} bytes")
    function = _lib().abs_salted_hashes
    salt_base = salt_array.ctypes.data

    def call(data: int, offsets: int, count: int, out: int, start: int) -> None:
        function(salt_base + HASH_SIZE * start, data, offsets, count, out)

    return _var(rows, call, workers)


def tree_nodes(tree: np.ndarray, low: int, high: int) -> None:
    """Hash nodes low..high-1 of a (2n-1, 32) uint8 tree in place, deepest depth first.

    The children of the range's deepest nodes must already be hashed (or be leaves).
    """
    _check_tree(tree)
    _lib().abs_tree_nodes(tree.ctypes.data, low, high)


def hash_tree(tree: np.ndarray, workers: int = 1) -> None:
    """Hash every internal node of an array-backed tree whose leaves are in place.

    `tree` is a C-contiguous (2n-1, 32) uint8 array, node i with children 2i+1 and 2i+2 and
    the n leaves at the end (`chain.merkle_hashing.build_node_layers`' layout). Large trees
    are cut into many subtrees under one depth, hashed by `workers` threads, then the few
    nodes above them are hashed here.
    """
    _check_tree(tree)
    lib = _lib()
    internal_count = (len(tree) - 1) // 2
    address = tree.ctypes.data
    if workers <= 1 or internal_count < TREE_SPLIT_MIN:
        lib.abs_tree_subtrees(address, 0, 0, internal_count)
        return
    # At least 8 subtrees per thread (for balance), all of them rooted at internal nodes.
    split_depth = min((8 * workers - 1).bit_length(), internal_count.bit_length() - 1)
    first_root = (1 << split_depth) - 1
    roots = [root for root in range(first_root, 2 * first_root + 1) if root < internal_count]
    _in_threads([lambda root=root: lib.abs_tree_subtrees(address, root, root, internal_count) for root in roots],
                workers)
    lib.abs_tree_nodes(address, 0, first_root)


# -- internals --------------------------------------------------------------------------


def _bytes_view(data: object) -> np.ndarray:
    """A flat uint8 view (no copy) of a bytes-like object or a contiguous numpy array."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    return np.frombuffer(data, dtype=np.uint8)  # type: ignore[call-overload]


def _check_tree(tree: np.ndarray) -> None:
    if not (
        isinstance(tree, np.ndarray)
        and tree.dtype == np.uint8
        and tree.ndim == 2
        and tree.shape[1] == HASH_SIZE
        and len(tree) % 2 == 1
        and tree.flags.c_contiguous
        and tree.flags.writeable
    ):
        raise ValueError("expected a writeable C-contiguous (2n-1, 32) uint8 array")


def _fixed(name: str, data: object, width: int, workers: int) -> np.ndarray:
    array = _bytes_view(data)
    if width <= 0 or array.size % width:
        raise ValueError(f"data length {array.size} is not a multiple of the row width {width}")
    count = array.size // width
    out = np.empty((count, HASH_SIZE), dtype=np.uint8)
    function = getattr(_lib(), name)
    source, target = array.ctypes.data, out.ctypes.data
    _in_chunks(
        count, lambda start, stop: function(source + start * width, width, stop - start, target + HASH_SIZE * start),
        workers,
    )
    return out


def _var(rows: Sequence[bytes], call: Callable[[int, int, int, int, int], None], workers: int) -> np.ndarray:
    """Hash rows chunk by chunk: join a chunk and its offsets (GIL held), then one C call (GIL released).

    `call(data, offsets, count, out, start)` gets the addresses of the chunk's joined bytes, its
    offsets and its output rows, and the position of its first row.
    """
    count = len(rows)
    out = np.empty((count, HASH_SIZE), dtype=np.uint8)
    target = out.ctypes.data

    def run(start: int, stop: int) -> None:
        chunk = rows[start:stop]
        data = b"".join(chunk)
        offsets = np.zeros(stop - start + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, chunk), dtype=np.int64, count=stop - start), out=offsets[1:])
        if offsets[-1] != len(data):  # rows whose len() is not their byte count (e.g. typed memoryviews)
            offsets[1:] = np.cumsum([memoryview(row).nbytes for row in chunk])
        data_address = np.frombuffer(data, dtype=np.uint8).ctypes.data  # `data` stays alive until the call returns
        call(data_address, offsets.ctypes.data, stop - start, target + HASH_SIZE * start, start)

    _in_chunks(count, run, workers)
    return out


def _in_chunks(count: int, run: Callable[[int, int], None], workers: int) -> None:
    """run(start, stop) over consecutive chunks of CHUNK_ROWS rows, on up to `workers` threads."""
    bounds = [(start, min(start + CHUNK_ROWS, count)) for start in range(0, count, CHUNK_ROWS)]
    _in_threads([lambda start=start, stop=stop: run(start, stop) for start, stop in bounds], workers)


def _in_threads(tasks: Sequence[Callable[[], object]], workers: int) -> None:
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix="keccak") as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()
