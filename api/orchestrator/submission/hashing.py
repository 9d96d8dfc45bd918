"""The on-chain identity of a submitted pack's assets: asset ids, record hashes and the assets root.

``asset id = keccak256(utf8(loan id))`` and ``record hash = keccak256(canonical JSON)`` are
``chain.leaves.asset_id`` and ``chain.leaves.record_hash`` computed column-wise; the assets
root is the ``StandardMerkleTree`` over (asset id, record hash) that ``submitPack`` anchors, so
any submitted asset is provable against the chain before it is even scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from api.orchestrator.submission.fields import SUBMITTED_ASSET_LEAF, canonical_json_column, packed
from api.orchestrator.submission.validate import ValidAssets
from chain.merkle import StandardMerkleTree
from chain.merkle_hashing import keccak256_packed


@dataclass(frozen=True)
class AssetHashes:
    asset_ids: np.ndarray  # (n, 32) uint8
    record_hashes: np.ndarray  # (n, 32) uint8
    assets_root: str


def hash_column(column: pa.Array) -> np.ndarray:
    """keccak256 of each string of an Arrow string array (its UTF-8 bytes), as an (n, 32) array."""
    data, offsets = packed(column)
    return np.frombuffer(keccak256_packed(data, offsets), dtype=np.uint8).reshape(len(column), 32)


def asset_ids_of(loan_ids: np.ndarray | pa.Array) -> np.ndarray:
    column = loan_ids if isinstance(loan_ids, pa.Array) else pa.array(loan_ids, type=pa.large_string())
    return hash_column(column)


def hash_assets(assets: ValidAssets) -> AssetHashes:
    columns = {name: assets.column(name) for name in assets.__dataclass_fields__}
    asset_ids = asset_ids_of(assets.loan_id)
    record_hashes = hash_column(canonical_json_column(columns))
    root = StandardMerkleTree.of_columns([asset_ids, record_hashes], SUBMITTED_ASSET_LEAF).root
    return AssetHashes(asset_ids, record_hashes, root)
