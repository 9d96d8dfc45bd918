"""StandardMerkleTree: published vectors, proofs, tampering, dumps, fast paths equal slow paths."""

from __future__ import annotations

import os
import random

import eth_abi
import numpy as np
import pytest
from eth_hash.auto import keccak as reference_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.errors import ChainError
from chain.merkle import (
    MerkleTreeError,
    MultiProof,
    StandardMerkleTree,
    process_multi_proof,
    process_proof,
    standard_leaf_hash,
    verify_proof,
)
from chain.merkle_hashing import PARALLEL_THRESHOLD, build_node_layers, keccak256
from chain.merkle_values import encode_static_columns, parse_leaf_encoding

# The example in @openzeppelin/merkle-tree's README, with the root it documents.
README_VALUES = [
    ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
    ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
]
README_ROOT = "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"
PACK_ENCODING = ["bytes32", "uint256", "uint8", "uint256"]


def random_pack_rows(count: int, seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    return [
        [rng.randbytes(32), rng.randrange(1, 10**12), rng.randrange(1, 11), rng.randrange(0, 10**6)]
        for _ in range(count)
    ]


def test_readme_example_root_and_proofs() -> None:
    tree = StandardMerkleTree.of(README_VALUES, ["address", "uint256"])
    assert tree.root == README_ROOT
    for index, value in enumerate(README_VALUES):
        proof = tree.get_proof(index)
        assert StandardMerkleTree.verify(README_ROOT, ["address", "uint256"], value, proof)
        assert tree.get_proof(value) == proof


def test_leaf_hash_is_double_keccak_of_abi_encoding() -> None:
    value = README_VALUES[0]
    encoded = eth_abi.encode(["address", "uint256"], [value[0], int(value[1])])
    expected = "0x" + reference_keccak(reference_keccak(encoded)).hex()
    assert standard_leaf_hash(["address", "uint256"], value) == expected


def test_fast_keccak_is_bit_exact_with_eth_hash() -> None:
    rng = random.Random(1)
    for length in [0, 1, 31, 32, 64, 128, 135, 136, 137, 300]:
        data = rng.randbytes(length)
        assert keccak256(data) == reference_keccak(data)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
def test_every_value_has_a_proof_that_verifies(count: int) -> None:
    rows = random_pack_rows(count, seed=count)
    tree = StandardMerkleTree.of(rows, PACK_ENCODING)
    for index, row in enumerate(rows):
        proof = tree.get_proof(index)
        assert StandardMerkleTree.verify(tree.root, PACK_ENCODING, row, proof)
        assert verify_proof(tree.root, tree.leaf_hash(row), proof)
        assert process_proof(tree.leaf_hash(row), proof) == tree.root


def test_single_leaf_tree_root_is_the_leaf() -> None:
    row = random_pack_rows(1, seed=5)[0]
    tree = StandardMerkleTree.of([row], PACK_ENCODING)
    assert tree.root == tree.leaf_hash(row)
    assert tree.get_proof(0) == []


def test_tampered_value_proof_or_root_fails() -> None:
    rows = random_pack_rows(10, seed=2)
    tree = StandardMerkleTree.of(rows, PACK_ENCODING)
    proof = tree.get_proof(3)
    tampered = list(rows[3])
    tampered[1] += 1
    assert not StandardMerkleTree.verify(tree.root, PACK_ENCODING, tampered, proof)
    bad_proof = list(proof)
    bad_proof[0] = "0x" + bytes(32).hex()
    assert not StandardMerkleTree.verify(tree.root, PACK_ENCODING, rows[3], bad_proof)
    assert not StandardMerkleTree.verify("0x" + "11" * 32, PACK_ENCODING, rows[3], proof)
    assert not StandardMerkleTree.verify(tree.root, PACK_ENCODING, rows[3], tree.get_proof(4))


def test_changing_any_value_changes_the_root() -> None:
    rows = random_pack_rows(6, seed=3)
    root = StandardMerkleTree.of(rows, PACK_ENCODING).root
    changed = [list(row) for row in rows]
    changed[5][3] += 1
    assert StandardMerkleTree.of(changed, PACK_ENCODING).root != root


def test_root_does_not_depend_on_value_order_but_proof_indices_follow_input() -> None:
    rows = random_pack_rows(12, seed=4)
    shuffled = rows[::-1]
    tree, other = StandardMerkleTree.of(rows, PACK_ENCODING), StandardMerkleTree.of(shuffled, PACK_ENCODING)
    assert tree.root == other.root
    assert tree.get_proof(0) == other.get_proof(11)
    assert tree.at(0) == other.at(11)


def test_unsorted_leaves_option_changes_layout_but_still_proves() -> None:
    rows = random_pack_rows(9, seed=6)
    tree = StandardMerkleTree.of(rows, PACK_ENCODING, sort_leaves=False)
    assert tree.root != StandardMerkleTree.of(rows, PACK_ENCODING).root
    assert [tree.tree_index(index) for index in range(9)] == [16 - index for index in range(9)]
    for index, row in enumerate(rows):
        assert StandardMerkleTree.verify(tree.root, PACK_ENCODING, row, tree.get_proof(index))


def test_duplicate_values_are_both_provable_and_lookup_returns_the_last() -> None:
    rows = [[b"\x01" * 32], [b"\x02" * 32], [b"\x01" * 32]]
    tree = StandardMerkleTree.of(rows, ["bytes32"])
    assert tree.tree_index(0) != tree.tree_index(2)
    assert tree.get_proof(0) != tree.get_proof(2)
    assert tree.leaf_lookup(rows[0]) == 2
    assert StandardMerkleTree.verify(tree.root, ["bytes32"], rows[0], tree.get_proof(0))


def test_columns_build_the_same_tree_as_rows() -> None:
    rows = random_pack_rows(50, seed=7)
    ids = np.frombuffer(b"".join(row[0] for row in rows), dtype=np.uint8).reshape(50, 32)
    columns = [ids, np.array([row[1] for row in rows]), np.array([row[2] for row in rows], dtype=np.uint8),
               np.array([row[3] for row in rows], dtype=np.int64)]
    by_rows = StandardMerkleTree.of(rows, PACK_ENCODING)
    by_columns = StandardMerkleTree.of_columns(columns, PACK_ENCODING)
    assert by_columns.root == by_rows.root
    assert by_columns.get_proof(17) == by_rows.get_proof(17)
    assert by_columns.at(17) == by_rows.at(17)
    assert by_columns.dump() == by_rows.dump()
    by_columns.validate()


def test_columns_accept_lists_and_mixed_static_types() -> None:
    encoding = ["address", "int256", "bool", "bytes4", "uint64"]
    rows = [
        ["0x" + os.urandom(20).hex(), -(2**200) + index, index % 2 == 0, os.urandom(4), 2**64 - 1 - index]
        for index in range(20)
    ]
    addresses = np.frombuffer(b"".join(bytes.fromhex(row[0][2:]) for row in rows), dtype=np.uint8).reshape(20, 20)
    columns_numpy = [addresses, [row[1] for row in rows], np.array([row[2] for row in rows]),
                     np.frombuffer(b"".join(row[3] for row in rows), dtype=np.uint8).reshape(20, 4),
                     np.array([row[4] for row in rows], dtype=np.uint64)]
    columns_lists = [list(column) for column in zip(*rows)]
    expected = StandardMerkleTree.of(rows, encoding).root
    assert StandardMerkleTree.of_columns(columns_numpy, encoding).root == expected
    assert StandardMerkleTree.of_columns(columns_lists, encoding).root == expected


def test_columns_with_dynamic_types_fall_back_to_rows() -> None:
    columns = [["alpha", "beta", ""], [True, False, True]]
    tree = StandardMerkleTree.of_columns(columns, ["string", "bool"])
    assert tree.root == StandardMerkleTree.of(list(zip(*columns)), ["string", "bool"]).root


static_scalar_types = st.sampled_from(["uint8", "uint64", "uint256", "int8", "int64", "int256", "address", "bool",
                                       "bytes1", "bytes20", "bytes32"])


def value_for(abi_type: str, data: st.DataObject) -> object:
    if abi_type == "address":
        return "0x" + data.draw(st.binary(min_size=20, max_size=20)).hex()
    if abi_type == "bool":
        return data.draw(st.booleans())
    if abi_type.startswith("bytes"):
        return data.draw(st.binary(min_size=0, max_size=int(abi_type[5:])))
    bits = int(abi_type.lstrip("uint"))
    if abi_type.startswith("u"):
        return data.draw(st.integers(0, 2**bits - 1))
    return data.draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))


@settings(max_examples=60, deadline=None)
@given(types=st.lists(static_scalar_types, min_size=1, max_size=5), count=st.integers(1, 6), data=st.data())
def test_vectorised_static_encoding_equals_eth_abi(types: list[str], count: int, data: st.DataObject) -> None:
    rows = [[value_for(abi_type, data) for abi_type in types] for _ in range(count)]
    columns = []
    for position, abi_type in enumerate(types):
        cells = [row[position] for row in rows]
        if abi_type.startswith(("uint", "int")) and int(abi_type.lstrip("uint")) <= 64:
            columns.append(np.array(cells, dtype=np.uint64 if abi_type.startswith("u") else np.int64))
        elif abi_type == "bool":
            columns.append(np.array(cells, dtype=bool))
        else:
            columns.append(cells)
    encoded = encode_static_columns(parse_leaf_encoding(types), columns)
    for row_index, row in enumerate(rows):
        abi_values = [bytes.fromhex(v[2:]) if t == "address" else v for t, v in zip(types, row)]
        assert encoded[row_index].tobytes() == eth_abi.encode(types, abi_values)


def test_parallel_build_equals_serial_build() -> None:
    count = PARALLEL_THRESHOLD + 1000
    rng = np.random.default_rng(11)
    columns = [rng.integers(0, 256, (count, 32), dtype=np.uint8), rng.integers(1, 10**12, count),
               rng.integers(1, 11, count).astype(np.uint8), rng.integers(0, 10**6, count)]
    serial = StandardMerkleTree.of_columns(columns, PACK_ENCODING, workers=1)
    parallel = StandardMerkleTree.of_columns(columns, PACK_ENCODING, workers=2)
    assert parallel.root == serial.root
    assert parallel.get_proof(count - 1) == serial.get_proof(count - 1)


def test_node_layers_match_the_javascript_algorithm_for_every_shape() -> None:
    for count in range(1, 40):
        leaves = [os.urandom(32) for _ in range(count)]
        tree = [b""] * (2 * count - 1)
        for position, leaf in enumerate(leaves):
            tree[len(tree) - 1 - position] = leaf
        for node in range(len(tree) - 1 - count, -1, -1):
            left, right = tree[2 * node + 1], tree[2 * node + 2]
            tree[node] = reference_keccak(min(left, right) + max(left, right))
        for workers in (1, 2, 3):
            assert build_node_layers(b"".join(leaves), workers) == b"".join(tree)


def test_dump_and_load_round_trip() -> None:
    rows = [["0x" + os.urandom(20).hex(), "hello", [1, 2, 3], True], ["0x" + os.urandom(20).hex(), "", [], False]]
    encoding = ["address", "string", "uint256[]", "bool"]
    tree = StandardMerkleTree.of(rows, encoding)
    dumped = tree.dump()
    assert dumped["format"] == "standard-v1"
    assert dumped["values"][0]["value"][2] == ["1", "2", "3"]
    loaded = StandardMerkleTree.load(dumped)
    assert loaded.root == tree.root
    assert loaded.get_proof(1) == tree.get_proof(1)


def test_load_refuses_unknown_format_and_tampered_dumps() -> None:
    dumped = StandardMerkleTree.of(README_VALUES, ["address", "uint256"]).dump()
    with pytest.raises(MerkleTreeError, match="Unknown format"):
        StandardMerkleTree.load({**dumped, "format": "simple-v1"})
    tampered_value = {**dumped, "values": [dict(entry) for entry in dumped["values"]]}
    tampered_value["values"][0]["value"] = [README_VALUES[0][0], "1"]
    with pytest.raises(MerkleTreeError, match="expected value"):
        StandardMerkleTree.load(tampered_value)
    tampered_root = {**dumped, "tree": ["0x" + "00" * 32] + dumped["tree"][1:]}
    with pytest.raises(MerkleTreeError, match="invalid"):
        StandardMerkleTree.load(tampered_root)


def test_multiproof_verifies_and_detects_tampering() -> None:
    rows = random_pack_rows(13, seed=8)
    tree = StandardMerkleTree.of(rows, PACK_ENCODING)
    multiproof = tree.get_multi_proof([0, 4, 12])
    assert sorted(map(tuple, multiproof.leaves)) == sorted(tree.at(index) for index in (0, 4, 12))
    assert StandardMerkleTree.verify_multi_proof(tree.root, PACK_ENCODING, multiproof)
    wrong = MultiProof(leaves=(tree.at(1),) + multiproof.leaves[1:], proof=multiproof.proof,
                       proof_flags=multiproof.proof_flags)
    assert not StandardMerkleTree.verify_multi_proof(tree.root, PACK_ENCODING, wrong)
    empty = tree.get_multi_proof([])
    assert empty.proof == (tree.root,) and process_multi_proof([], empty.proof, empty.proof_flags) == tree.root
    with pytest.raises(MerkleTreeError, match="duplicated"):
        tree.get_multi_proof([3, 3])
    with pytest.raises(MerkleTreeError, match="not compatible"):
        process_multi_proof([tree.leaf_hash(rows[0])], [], [True])


@pytest.mark.parametrize(
    ("encoding", "row", "message"),
    [
        (["uint8"], [256], "out of range"),
        (["uint256"], [-1], "out of range"),
        (["uint256"], [1.5], "integer"),
        (["address"], ["0x1234"], "20 bytes"),
        (["bytes4"], [b"12345"], "at most 4"),
        (["bool"], [1], "bool"),
        (["uint256", "bool"], [1], "row of 2"),
        (["uint7"], [1], "invalid ABI type"),
    ],
)
def test_bad_values_are_refused_with_a_chain_value_error(encoding: list[str], row: list[object], message: str) -> None:
    with pytest.raises(MerkleTreeError, match=message) as raised:
        StandardMerkleTree.of([row], encoding)
    assert isinstance(raised.value, ChainError) and isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("column", "abi_type", "message"),
    [
        (np.array([5, -1]), "uint256", "-1 is out of range"),
        (np.array([200]), "int8", "200 is out of range"),
        (np.zeros((2, 19), dtype=np.uint8), "address", "20 bytes"),
        (np.zeros((2, 33), dtype=np.uint8), "bytes32", "at most 32"),
    ],
)
def test_bad_columns_are_refused_on_the_vectorised_path(column: object, abi_type: str, message: str) -> None:
    with pytest.raises(MerkleTreeError, match=message):
        StandardMerkleTree.of_columns([column], [abi_type])


def test_short_fixed_bytes_are_right_padded_as_abi_encode_does() -> None:
    padded = "0x12" + "00" * 31
    tree = StandardMerkleTree.of_columns([["0x12"]], ["bytes32"])
    assert tree.root == StandardMerkleTree.of([[padded]], ["bytes32"]).root
    assert tree.root == standard_leaf_hash(["bytes32"], [bytes.fromhex(padded[2:])])


def test_empty_trees_and_bad_indices_are_refused() -> None:
    with pytest.raises(MerkleTreeError, match="non-zero"):
        StandardMerkleTree.of([], ["uint256"])
    with pytest.raises(MerkleTreeError, match="non-zero"):
        StandardMerkleTree.of_columns([np.array([], dtype=np.int64)], ["uint256"])
    tree = StandardMerkleTree.of(README_VALUES, ["address", "uint256"])
    with pytest.raises(MerkleTreeError, match="out of bounds"):
        tree.get_proof(2)
    with pytest.raises(MerkleTreeError, match="not in tree"):
        tree.get_proof([README_VALUES[0][0], "1"])
    with pytest.raises(MerkleTreeError, match="32 bytes"):
        process_proof("0x1234", [])
