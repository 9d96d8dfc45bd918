"""Merkle proofs in OpenZeppelin's layout: single proofs and multiproofs, made and checked.

The same algorithms as `@openzeppelin/merkle-tree`'s core and `MerkleProof.sol`: a node
is keccak256 of its two children, smaller first; a tree is array-backed (node i has
children 2i+1 and 2i+2). Nodes are 32-byte hashes, given as bytes or 0x-hex.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chain.merkle_hashing import HASH_SIZE, sorted_pair_hash
from chain.merkle_values import MerkleTreeError


@dataclass(frozen=True)
class MultiProof:
    """A proof for several leaves at once (`MerkleProof.multiProofVerify`); leaves are values or hashes."""

    leaves: tuple[Any, ...]
    proof: tuple[str, ...]
    proof_flags: tuple[bool, ...]


def node_bytes(node: str | bytes) -> bytes:
    """A 32-byte node from bytes or 0x-hex."""
    if isinstance(node, (bytes, bytearray)):
        raw = bytes(node)
    else:
        try:
            raw = bytes.fromhex(node[2:] if node[:2].lower() == "0x" else node)
        except (ValueError, TypeError) as error:
            raise MerkleTreeError(f"not a hex string: {node!r}") from error
    if len(raw) != HASH_SIZE:
        raise MerkleTreeError("Merkle tree nodes must be 32 bytes long")
    return raw


def to_hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def sibling_index(tree_index: int) -> int:
    return tree_index + 1 if tree_index % 2 else tree_index - 1


def parent_index(tree_index: int) -> int:
    return (tree_index - 1) // 2


def proof_for(node_at: Callable[[int], bytes], tree_index: int) -> list[str]:
    """Sibling hashes from the node at `tree_index` up to the root."""
    proof = []
    while tree_index > 0:
        proof.append(to_hex(node_at(sibling_index(tree_index))))
        tree_index = parent_index(tree_index)
    return proof


def multi_proof_for(
    node_at: Callable[[int], bytes], tree_indices: Sequence[int]
) -> tuple[list[int], list[str], list[bool]]:
    """(leaf tree indices in proof order, proof, proof flags), as `getMultiProof` lays them out."""
    ordered = sorted(tree_indices, reverse=True)
    if len(set(ordered)) != len(ordered):
        raise MerkleTreeError("Cannot prove duplicated index")
    stack = deque(ordered)
    proof: list[str] = []
    flags: list[bool] = []
    while stack and stack[0] > 0:
        node = stack.popleft()
        sibling = sibling_index(node)
        if stack and stack[0] == sibling:
            flags.append(True)
            stack.popleft()
        else:
            flags.append(False)
            proof.append(to_hex(node_at(sibling)))
        stack.append(parent_index(node))
    if not ordered:
        proof.append(to_hex(node_at(0)))
    return ordered, proof, flags


def process_proof(leaf: str | bytes, proof: Sequence[str | bytes]) -> str:
    """The root implied by a leaf hash and its proof (`MerkleProof.processProof`), as 0x-hex."""
    computed = node_bytes(leaf)
    for sibling in proof:
        computed = sorted_pair_hash(computed, node_bytes(sibling))
    return to_hex(computed)


def verify_proof(root: str | bytes, leaf: str | bytes, proof: Sequence[str | bytes]) -> bool:
    """True if `proof` proves the leaf hash `leaf` under `root`."""
    return node_bytes(root) == node_bytes(process_proof(leaf, proof))


def process_multi_proof(
    leaves: Sequence[str | bytes], proof: Sequence[str | bytes], proof_flags: Sequence[bool]
) -> str:
    """The root implied by a multiproof over leaf hashes (`MerkleProof.processMultiProof`)."""
    stack = deque(node_bytes(leaf) for leaf in leaves)
    siblings = deque(node_bytes(node) for node in proof)
    if len(siblings) < sum(1 for flag in proof_flags if not flag):
        raise MerkleTreeError("Invalid multiproof format")
    if len(stack) + len(siblings) != len(proof_flags) + 1:
        raise MerkleTreeError("Provided leaves and multiproof are not compatible")
    for flag in proof_flags:
        first = stack.popleft()
        second = stack.popleft() if flag else siblings.popleft()
        stack.append(sorted_pair_hash(first, second))
    return to_hex(stack.pop() if stack else siblings.popleft())
