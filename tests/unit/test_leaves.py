"""The identifiers and hashes every party must derive identically (chain/leaves.py)."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain.leaves import asset_id, canonical_json, record_hash, salted_record_hash


def test_canonical_json_ignores_key_order_and_spacing():
    assert canonical_json({"b": 1, "a": "x"}) == b'{"a":"x","b":1}'
    assert record_hash({"b": 1, "a": "x"}) == record_hash({"a": "x", "b": 1})


def test_canonical_json_refuses_values_parties_could_format_differently():
    with pytest.raises(ValueError, match="canonical JSON"):
        canonical_json({"rate": float("nan")})
    with pytest.raises(ValueError, match="canonical JSON"):
        canonical_json({"when": object()})


def test_salted_hash_is_keccak_of_salt_and_record_hash():
    record, salt = {"borrower_id": "B-1", "income": 420000}, bytes(range(32))
    assert salted_record_hash(salt, record) == keccak(salt + keccak(b'{"borrower_id":"B-1","income":420000}'))
    assert salted_record_hash(bytes(32), record) != salted_record_hash(salt, record)
    with pytest.raises(ValueError, match="32 bytes"):
        salted_record_hash(b"short", record)


def test_asset_id_is_keccak_of_the_loan_id():
    assert asset_id("L-000001") == keccak(b"L-000001")
    with pytest.raises(ValueError, match="non-empty"):
        asset_id("")
