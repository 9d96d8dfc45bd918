"""What the platform's Merkle trees hold: identifiers, record hashes and leaf encodings.

Every party (the platform, the bureau, the exchange, the auditor) derives the same bytes32
values from the same off-chain data through these functions, and the contracts'
``StandardLeaf`` library hashes leaves of the same encodings.

* an asset id is ``keccak256(utf8(loan_id))``: a loan id of any length becomes a bytes32;
* a record hash is ``keccak256(canonical JSON)``: keys sorted, no spaces, UTF-8;
* a salted record hash (the bureau's commitment) is ``keccak256(salt ‖ record hash)``, with a
  random 32-byte salt per record, so that low-entropy personal data cannot be guessed back.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_utils import keccak

from chain import native
from chain.merkle_hashing import hash_rows_in_parallel, keccak256, thread_count

# Leaf encodings of the StandardMerkleTree of each tree, as contracts/lib/StandardLeaf.sol has them.
CREDIT_LEAF = ("bytes32",)  # the salted record hash
SCORE_LEAF = ("bytes32", "uint8", "uint8", "uint256")  # asset id, score, level, model id
PACK_ASSET_LEAF = ("bytes32", "bytes32", "uint8", "uint8")  # asset id, loan-record hash, score, level
SUBMITTED_ASSET_LEAF = ("bytes32", "bytes32")  # asset id, loan-record hash: AssetPack.submitPack's assetsRoot
EXCLUDED_LEAF = ("bytes32", "bytes32")  # asset id, keccak256(reason) of an asset excluded before scoring
# device address, sequence, timestamp (unix ms), keccak256(canonical JSON of the signed event);
# CollateralRegistry.verifyEvent hashes leaves of this encoding.
IOT_EVENT_LEAF = ("address", "uint64", "uint64", "bytes32")


def to_hex32(value: bytes) -> str:
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return "0x" + value.hex()


def from_hex32(value: str | bytes) -> bytes:
    raw = value if isinstance(value, bytes) else bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected a 32-byte hex value, got {value!r}")
    return raw


def asset_id(loan_id: str) -> bytes:
    """The on-chain identifier of a loan: ``keccak256(utf8(loan_id))``."""
    if not isinstance(loan_id, str) or not loan_id:
        raise ValueError(f"a loan id must be a non-empty string, got {loan_id!r}")
    return keccak(loan_id.encode())


def asset_ids(loan_ids: Iterable[str]) -> list[bytes]:
    return [asset_id(loan_id) for loan_id in loan_ids]


def reason_id(reason: str) -> bytes:
    """``keccak256(utf8(reason))``: an exclusion reason as it goes into a leaf."""
    return keccak(reason.encode())


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """The one byte form of a record that every party hashes: sorted keys, compact, UTF-8.

    Values must already be JSON types (str, int, bool, None, lists, dicts): money is integer
    minor units and dates are ISO strings, so no float formatting can differ between parties.
    """
    try:
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"record is not canonical JSON: {exc}") from None


def record_hash(record: Mapping[str, Any]) -> bytes:
    return keccak(canonical_json(record))


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def salted_record_hash(salt: bytes, record: Mapping[str, Any]) -> bytes:
    """The bureau's commitment to one record (the value of its credit-tree leaf)."""
    if len(salt) != 32:
        raise ValueError("a salt is 32 bytes")
    return keccak(salt + record_hash(record))


def salted_record_hashes(salts: bytes, canonical_records: Sequence[bytes], workers: int | None = None) -> bytes:
    """``salted_record_hash`` of many records at once: the 32-byte hashes back to back.

    ``canonical_records`` are the records' canonical JSON bytes (as ``canonical_json`` gives
    them) and ``salts`` their 32-byte salts back to back, in the same order. Natively
    (``chain.native``) the records are hashed in C on ``workers`` threads; otherwise one
    safe-pysha3 call per hash and no per-record Python frame, large batches split across
    forked workers (``chain.merkle_hashing.hash_rows_in_parallel``). Same result either way.
    """
    count = len(canonical_records)
    if len(salts) != 32 * count:
        raise ValueError(f"expected {count} salts of 32 bytes, got {len(salts)} bytes")
    if native.available():
        return native.salted_hashes(salts, canonical_records, thread_count(workers)).tobytes()

    def hash_range(start: int, stop: int) -> bytes:
        record_hashes = map(keccak256, canonical_records[start:stop])
        salt_rows = map(salts.__getitem__, map(slice, range(32 * start, 32 * stop, 32),
                                               range(32 * start + 32, 32 * stop + 32, 32)))
        return b"".join(map(keccak256, map(bytes.__add__, salt_rows, record_hashes)))

    return hash_rows_in_parallel(count, hash_range, workers)


def collateral_id(code: str) -> bytes:
    """The on-chain identifier of a pledged collateral: ``keccak256(utf8(code))``."""
    if not isinstance(code, str) or not code:
        raise ValueError(f"a collateral code must be a non-empty string, got {code!r}")
    return keccak(code.encode())
