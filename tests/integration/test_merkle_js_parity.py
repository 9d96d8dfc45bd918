"""Our StandardMerkleTree against @openzeppelin/merkle-tree itself, run under node.

Each case sends the same rows (in the JSON form both sides accept) to
tests/fixtures/merkle_reference.js and compares roots, every proof, leaf hashes,
multiproofs and the full dump; the JavaScript dump must also load here.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chain.merkle import StandardMerkleTree
from chain.merkle_values import canonical_row, json_value, parse_leaf_encoding

REPO = Path(__file__).resolve().parents[2]
REFERENCE_SCRIPT = REPO / "tests" / "fixtures" / "merkle_reference.js"


def run_reference(
    leaf_encoding: list[str],
    values: list[list[Any]],
    multi_proofs: list[list[int]],
    proof_indices: list[int] | None = None,
) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is required for the JavaScript parity test"
    request: dict[str, Any] = {"leafEncoding": leaf_encoding, "values": values, "multiProofs": multi_proofs}
    if proof_indices is not None:
        request["proofIndices"] = proof_indices
    completed = subprocess.run(
        [node, str(REFERENCE_SCRIPT)], input=json.dumps(request), capture_output=True, text=True, cwd=REPO, check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def as_json_rows(leaf_encoding: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    nodes = parse_leaf_encoding(leaf_encoding)
    return [[json_value(node, item) for node, item in zip(nodes, canonical_row(nodes, row))] for row in rows]


def random_rows(leaf_encoding: list[str], count: int, rng: random.Random) -> list[list[Any]]:
    def draw(abi_type: str) -> Any:
        if abi_type.endswith("[]"):
            return [draw(abi_type[:-2]) for _ in range(rng.randrange(0, 4))]
        if abi_type == "address":
            return "0x" + rng.randbytes(20).hex()
        if abi_type == "bool":
            return rng.random() < 0.5
        if abi_type == "string":
            return "".join(rng.choice("abcxyz é中-_ ") for _ in range(rng.randrange(0, 40)))
        if abi_type == "bytes":
            return rng.randbytes(rng.randrange(0, 70))
        if abi_type.startswith("bytes"):
            return rng.randbytes(int(abi_type[5:]))
        if abi_type.startswith("uint"):
            return rng.randrange(0, 2 ** int(abi_type[4:] or 256))
        bits = int(abi_type[3:] or 256)
        return rng.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1))

    return [[draw(abi_type) for abi_type in leaf_encoding] for _ in range(count)]


CASES = [
    (["address", "uint256"], 1),
    (["address", "uint256"], 2),
    (["bytes32", "uint256", "uint8", "uint256"], 3),
    (["bytes32", "uint256", "uint8", "uint256"], 37),
    (["string", "bool"], 11),
    (["bool"], 2),
    (["uint256"], 64),
    (["int256", "bytes", "address[]", "bytes4"], 9),
    (["bytes32"], 257),
]


@pytest.mark.parametrize(("leaf_encoding", "count"), CASES, ids=[f"{'-'.join(e)}-{n}" for e, n in CASES])
def test_roots_proofs_and_dumps_match_javascript(leaf_encoding: list[str], count: int) -> None:
    rng = random.Random(f"{leaf_encoding}{count}")
    rows = as_json_rows(leaf_encoding, random_rows(leaf_encoding, count, rng))
    if count > 3:
        rows[-1] = rows[0]  # a duplicated value exercises the stable sort of equal leaf hashes
    multi_proofs = [[0], list(range(0, count, 3))] if count > 1 else [[0]]
    reference = run_reference(leaf_encoding, rows, multi_proofs)

    tree = StandardMerkleTree.of(rows, leaf_encoding)
    assert tree.root == reference["root"]
    assert [tree.get_proof(index) for index in range(count)] == reference["proofs"]
    assert [tree.leaf_hash(row) for row in rows] == reference["leafHashes"]
    assert tree.dump() == reference["dump"]
    for indices, expected in zip(multi_proofs, reference["multiProofs"]):
        ours = tree.get_multi_proof(indices)
        assert list(ours.proof) == expected["proof"]
        assert list(ours.proof_flags) == expected["proofFlags"]
        assert as_json_rows(leaf_encoding, list(ours.leaves)) == expected["leaves"]
    assert StandardMerkleTree.load(reference["dump"]).root == reference["root"]


def test_large_pack_tree_from_columns_matches_javascript() -> None:
    count = 5000
    generator = np.random.default_rng(3)
    ids = generator.integers(0, 256, (count, 32), dtype=np.uint8)
    balances = generator.integers(1, 10**12, count)
    levels = generator.integers(1, 11, count).astype(np.uint8)
    pds = generator.integers(0, 10**6, count)
    leaf_encoding = ["bytes32", "uint256", "uint8", "uint256"]
    rows = [["0x" + ids[i].tobytes().hex(), str(balances[i]), str(levels[i]), str(pds[i])] for i in range(count)]
    probes = [0, 1, 2047, 4321, count - 1]
    reference = run_reference(leaf_encoding, rows, [probes], proof_indices=probes)
    tree = StandardMerkleTree.of_columns([ids, balances, levels, pds], leaf_encoding)
    assert tree.root == reference["root"]
    assert [tree.get_proof(index) for index in probes] == reference["proofs"]
    assert list(tree.get_multi_proof(probes).proof) == reference["multiProofs"][0]["proof"]
