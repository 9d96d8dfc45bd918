"""chain.native: the batch C Keccak-256 equals the pure path and an independent Keccak byte for byte.

The reference is pycryptodome's Keccak (a different implementation from both keccak.c and the
pure path's safe-pysha3), anchored by the published vectors of b"" and b"abc". The C functions
run on the default build (four states at once on AVX2 CPUs) and on a scalar-only build; every
caller is also compared with the pure path run under ``ABS_NATIVE_KECCAK=0``; the fallback is
checked with the library made unavailable.
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import native
from chain.leaves import salted_record_hashes
from chain.merkle import StandardMerkleTree
from chain.merkle_hashing import (
    build_node_layers,
    double_keccak_encoded,
    double_keccak_matrix,
    double_keccak_rows,
    keccak256_many,
    keccak256_packed,
    native_keccak_available,
)
from chain.native import build

EMPTY_KECCAK = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
ABC_KECCAK = "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
# Around the 136-byte rate: empty, one short block, exactly one block (padding needs a second
# permutation), one byte over, two blocks and beyond.
BOUNDARY_LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 134, 135, 136, 137, 271, 272, 273, 1000]


def ref(data: bytes) -> bytes:
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def ref_tree(sorted_leaves: list[bytes]) -> bytes:
    """@openzeppelin/merkle-tree's makeMerkleTree, written out plainly."""
    count = len(sorted_leaves)
    tree: list[bytes] = [b""] * (2 * count - 1)
    for index, leaf in enumerate(sorted_leaves):
        tree[2 * count - 2 - index] = leaf
    for index in range(count - 2, -1, -1):
        left, right = tree[2 * index + 1], tree[2 * index + 2]
        tree[index] = ref(min(left, right) + max(left, right))
    return b"".join(tree)


@contextmanager
def native_switch(on: bool) -> Iterator[None]:
    """ABS_NATIVE_KECCAK set for the block (no monkeypatch: hypothesis tests use it too)."""
    previous = os.environ.get(native.ENV_SWITCH)
    os.environ[native.ENV_SWITCH] = "1" if on else "0"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[native.ENV_SWITCH]
        else:
            os.environ[native.ENV_SWITCH] = previous


def both_paths(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """function(*args) natively, then on the pure path; fails if the native path is not taken."""
    with native_switch(True):
        assert native_keccak_available()
        fast = function(*args, **kwargs)
    with native_switch(False):
        assert not native_keccak_available()
        slow = function(*args, **kwargs)
    return fast, slow


@pytest.fixture(autouse=True)
def native_library() -> None:
    """Where a C compiler exists the library must load: a silent fallback would make these tests vacuous."""
    if build.find_compiler() is None and native.library() is None:
        pytest.skip("no C compiler: only the pure path exists here")
    assert native.library() is not None


@pytest.fixture(scope="module")
def scalar_library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """keccak.c built without the four-state vector path."""
    if build.find_compiler() is None:
        pytest.skip("no C compiler to build the scalar-only library")
    target = tmp_path_factory.mktemp("scalar") / "libabskeccak-scalar.so"
    library = native.open_library(build.compile_library(target, ("-DABS_KECCAK_SCALAR_ONLY",)))
    assert library.abs_keccak_lanes() == 1
    return library


@pytest.fixture(params=["default", "scalar"])
def either_build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the default build, then on the scalar-only build."""
    if request.param == "scalar":
        scalar = request.getfixturevalue("scalar_library")
        monkeypatch.setattr(native, "library", lambda: scalar)
    return request.param


def random_rows(lengths: list[int], seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(length) for length in lengths]


# -- the C functions against the reference ----------------------------------------------


def test_default_build_runs_four_states_where_avx2_exists() -> None:
    cpuinfo = Path("/proc/cpuinfo")
    has_avx2 = cpuinfo.exists() and "avx2" in cpuinfo.read_text().split()
    if platform.machine() not in ("x86_64", "AMD64") or not has_avx2:
        pytest.skip("the four-state path needs x86-64 with AVX2")
    assert native.lanes() == 4


@pytest.mark.usefixtures("either_build")
def test_published_vectors() -> None:
    assert ref(b"").hex() == EMPTY_KECCAK and ref(b"abc").hex() == ABC_KECCAK
    digests = native.keccak256_rows([b"", b"abc"])
    assert [row.tobytes().hex() for row in digests] == [EMPTY_KECCAK, ABC_KECCAK]
    assert native.keccak256_fixed(b"abc", 3).tobytes().hex() == ABC_KECCAK
    fast, slow = both_paths(keccak256_many, [b"", b"abc"])
    assert fast == slow == bytes.fromhex(EMPTY_KECCAK + ABC_KECCAK)


@pytest.mark.usefixtures("either_build")
def test_rows_around_the_rate() -> None:
    rows = random_rows(BOUNDARY_LENGTHS * 3, seed=1)
    assert native.keccak256_rows(rows).tobytes() == b"".join(map(ref, rows))
    assert native.double_keccak256_rows(rows).tobytes() == b"".join(ref(ref(row)) for row in rows)
    salts = random.Random(2).randbytes(32 * len(rows))
    expected = b"".join(ref(salts[32 * i : 32 * i + 32] + ref(row)) for i, row in enumerate(rows))
    assert native.salted_hashes(salts, rows).tobytes() == expected


@pytest.mark.usefixtures("either_build")
@pytest.mark.parametrize("width", [length for length in BOUNDARY_LENGTHS if length])
def test_fixed_width_rows_around_the_rate(width: int) -> None:
    data = random.Random(width).randbytes(width * 7)
    rows = [data[start : start + width] for start in range(0, len(data), width)]
    assert native.keccak256_fixed(data, width).tobytes() == b"".join(map(ref, rows))
    matrix = np.frombuffer(data, dtype=np.uint8).reshape(7, width)
    assert native.double_keccak256_fixed(matrix, width).tobytes() == b"".join(ref(ref(row)) for row in rows)


@pytest.mark.usefixtures("either_build")
def test_results_do_not_depend_on_the_thread_count() -> None:
    rng = random.Random(3)
    rows = random_rows([rng.randrange(0, 300) for _ in range(3 * native.CHUNK_ROWS + 17)], seed=4)
    expected = b"".join(map(ref, rows))
    for workers in (1, 2, 3):
        assert native.keccak256_rows(rows, workers).tobytes() == expected
    fixed = b"".join(row[:5].ljust(5, b"\0") for row in rows)
    fixed_expected = b"".join(ref(fixed[start : start + 5]) for start in range(0, len(fixed), 5))
    assert {native.keccak256_fixed(fixed, 5, workers).tobytes() for workers in (1, 2, 3)} == {fixed_expected}


def test_empty_batches_and_bad_shapes() -> None:
    assert native.keccak256_rows([]).shape == (0, 32)
    assert native.keccak256_fixed(b"", 64).shape == (0, 32)
    with pytest.raises(ValueError, match="multiple"):
        native.keccak256_fixed(b"abc", 2)
    with pytest.raises(ValueError, match="salts"):
        native.salted_hashes(bytes(31), [b"x"])
    with pytest.raises(ValueError, match="uint8"):
        native.hash_tree(np.zeros((4, 32), dtype=np.uint8))


@pytest.mark.usefixtures("either_build")
@pytest.mark.parametrize("leaf_count", [1, 2, 3, 5, 1000, 1025, 40_000])
def test_tree_nodes_equal_the_reference_and_the_pure_path(leaf_count: int) -> None:
    leaves = sorted(random_rows([32] * leaf_count, seed=leaf_count))
    expected = ref_tree(leaves)
    for workers in (1, 2, 3):
        fast, slow = both_paths(build_node_layers, b"".join(leaves), workers)
        assert fast == expected
        assert slow == expected


def test_tree_split_does_not_depend_on_the_thread_count() -> None:
    leaves = sorted(random_rows([32] * 20_000, seed=20))
    expected = ref_tree(leaves)
    for workers in (1, 2, 7, 5000):  # 5000 threads would want more subtrees than the tree has
        tree = np.zeros((2 * len(leaves) - 1, 32), dtype=np.uint8)
        tree[len(leaves) - 1 :] = np.frombuffer(b"".join(reversed(leaves)), dtype=np.uint8).reshape(-1, 32)
        native.hash_tree(tree, workers)
        assert tree.tobytes() == expected


@pytest.mark.usefixtures("either_build")
def test_tree_node_ranges() -> None:
    leaves = sorted(random_rows([32] * 9, seed=9))
    expected = np.frombuffer(ref_tree(leaves), dtype=np.uint8).reshape(17, 32)
    tree = np.zeros((17, 32), dtype=np.uint8)
    tree[8:] = expected[8:]
    for low, high in ((7, 8), (3, 7), (1, 3), (0, 1)):  # one depth at a time, deepest first
        native.tree_nodes(tree, low, high)
    assert tree.tobytes() == expected.tobytes()
    again = np.zeros((17, 32), dtype=np.uint8)
    again[8:] = expected[8:]
    native.tree_nodes(again, 0, 8)  # a range over several depths is hashed deepest first
    assert again.tobytes() == expected.tobytes()


# -- the callers: native path == pure path == reference ----------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=400), max_size=40))
def test_keccak256_many_and_double_rows(rows: list[bytes]) -> None:
    fast, slow = both_paths(keccak256_many, rows)
    assert fast == slow == b"".join(map(ref, rows))
    fast, slow = both_paths(double_keccak_rows, rows)
    assert fast == slow == b"".join(ref(ref(row)) for row in rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=400), max_size=40), st.binary(max_size=7))
def test_keccak256_packed_hashes_the_rows_between_offsets(rows: list[bytes], padding: bytes) -> None:
    data = padding + b"".join(rows) + padding  # rows need not start at 0 or end at the data's end
    offsets = np.cumsum([len(padding)] + [len(row) for row in rows], dtype=np.int64)
    fast, slow = both_paths(keccak256_packed, data, offsets)
    assert fast == slow == b"".join(map(ref, rows))


def test_keccak256_packed_refuses_offsets_outside_the_data() -> None:
    if not native_keccak_available():
        pytest.skip("the native library is not built here")
    for offsets in ([0, 5, 3], [-1, 2], [0, 11]):
        with pytest.raises(ValueError, match="offsets"):
            native.keccak256_packed(b"0123456789", np.asarray(offsets, dtype=np.int64))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.binary(max_size=700)), max_size=30))
def test_salted_record_hashes(pairs: list[tuple[bytes, bytes]]) -> None:
    salts = b"".join(salt for salt, _ in pairs)
    records = [record for _, record in pairs]
    fast, slow = both_paths(salted_record_hashes, salts, records)
    assert fast == slow == b"".join(ref(salt + ref(record)) for salt, record in pairs)


def test_large_batches_through_the_callers() -> None:
    rng = random.Random(5)
    records = random_rows([rng.randrange(200, 400) for _ in range(40_000)], seed=6)
    salts = rng.randbytes(32 * len(records))
    expected = b"".join(ref(salts[32 * i : 32 * i + 32] + ref(record)) for i, record in enumerate(records))
    fast, slow = both_paths(salted_record_hashes, salts, records)
    assert fast == slow == expected
    fast, slow = both_paths(double_keccak_encoded, len(records), lambda start, stop: iter(records[start:stop]))
    assert fast == slow == b"".join(ref(ref(record)) for record in records)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 1000, 40_000])
def test_standard_tree_of_columns_native_equals_pure(count: int) -> None:
    rng = np.random.default_rng(count)
    ids = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    hashes = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    scores = rng.integers(1, 101, size=count, dtype=np.uint8)
    columns, encoding = [ids, hashes, scores], ("bytes32", "bytes32", "uint8")
    fast, slow = both_paths(StandardMerkleTree.of_columns, columns, encoding)
    assert fast.root == slow.root
    assert fast._tree == slow._tree
    assert [fast.tree_index(i) for i in range(count)] == [slow.tree_index(i) for i in range(count)]
    # Independently: leaves are keccak(keccak(abi.encode(row))), sorted, then the reference tree.
    encoded = [ids[i].tobytes() + hashes[i].tobytes() + bytes(31) + bytes([scores[i]]) for i in range(count)]
    assert fast._tree == ref_tree(sorted(ref(ref(row)) for row in encoded))


def test_double_keccak_matrix_on_both_paths() -> None:
    matrix = np.random.default_rng(7).integers(0, 256, size=(50_000, 64), dtype=np.uint8)
    fast, slow = both_paths(double_keccak_matrix, matrix)
    assert fast == slow == b"".join(ref(ref(row.tobytes())) for row in matrix)


def test_row_built_tree_native_equals_pure() -> None:
    rows = [[f"0x{index:040x}", index * 10**15] for index in range(1, 301)]
    fast, slow = both_paths(StandardMerkleTree.of, rows, ["address", "uint256"])
    assert fast.root == slow.root and fast._tree == slow._tree
    assert fast.dump() == slow.dump()
    StandardMerkleTree.load(fast.dump())  # validate() re-hashes every leaf and node natively


# -- switch, fallback and build ----------------------------------------------------------


def test_environment_switch_forces_the_pure_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.ENV_SWITCH, "0")
    assert not native.available()
    monkeypatch.setenv(native.ENV_SWITCH, "1")
    assert native.available()


def test_fallback_when_the_library_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "library", lambda: None)
    assert not native.available() and not native_keccak_available()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the native path was taken without a library")

    for name in ("keccak256_rows", "double_keccak256_rows", "double_keccak256_fixed", "salted_hashes", "hash_tree"):
        monkeypatch.setattr(native, name, refuse)
    rows = random_rows([0, 10, 135, 136, 137, 272], seed=8)
    assert keccak256_many(rows) == b"".join(map(ref, rows))
    assert double_keccak_rows(rows) == b"".join(ref(ref(row)) for row in rows)
    salts = bytes(range(32)) * len(rows)
    assert salted_record_hashes(salts, rows) == b"".join(ref(bytes(range(32)) + ref(row)) for row in rows)
    leaves = sorted(random_rows([32] * 5, seed=5))
    assert build_node_layers(b"".join(leaves)) == ref_tree(leaves)
    ids = np.random.default_rng(1).integers(0, 256, size=(3, 32), dtype=np.uint8)
    tree = StandardMerkleTree.of_columns([ids], ("bytes32",))
    assert tree._tree == ref_tree(sorted(ref(ref(row.tobytes())) for row in ids))


def test_build_names_the_library_by_source_and_needs_a_compiler(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    path = build.library_path()
    assert path.parent == build.BUILD_DIR and path.name == f"libabskeccak-{build.source_digest()}.so"
    changed = tmp_path / "keccak.c"
    changed.write_bytes(build.SOURCE.read_bytes() + b"\n/* changed */\n")
    monkeypatch.setattr(build, "SOURCE", changed)
    assert build.library_path() != path
    monkeypatch.setattr(build, "BUILD_DIR", tmp_path / "_build")
    monkeypatch.setattr(build, "find_compiler", lambda: None)
    with pytest.raises(build.NativeBuildError, match="no C compiler"):
        build.build()
    assert build.main([]) == 1
