"""Device event signatures: EIP-191 over the canonical event hash, as any Ethereum wallet makes them."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from api.iot.payloads import MalformedEventError, parse_event
from api.iot.signing import (
    HALF_N,
    SECP256K1_N,
    address_of,
    canonical_event,
    canonical_event_fast,
    event_hash,
    payload_json,
    recover_signer,
    sign_event,
)
from chain.leaves import canonical_json

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def test_signatures_are_eip191_personal_signs_of_the_event_hash():
    event = sign_event(KEY, {"device": address_of(KEY), "seq": 7, "ts": 1_700_000_000_123, "type": "status",
                             "payload": {"state": "running"}})
    digest = event_hash(canonical_event(event["device"], 7, 1_700_000_000_123, "status", {"state": "running"}))
    wallet = Account.sign_message(encode_defunct(primitive=digest), private_key=KEY)
    assert event["signature"] == "0x" + bytes(wallet.signature).hex()
    assert recover_signer(digest, event["signature"]) == Account.from_key(KEY).address.lower()


def test_the_fast_canonical_form_is_the_canonical_json():
    for payload in ({"state": "down"}, {"milli_c": -18_500}, {"total": 10, "delayed": 3}, {"note": "温度 \"x\""}):
        assert canonical_event_fast("0xab", 1, 2, "orders", payload_json(payload)) == canonical_json(
            {"device": "0xab", "seq": 1, "ts": 2, "type": "orders", "payload": payload})


def test_bad_and_malleable_signatures_recover_nobody():
    digest = os.urandom(32)
    signature = sign_event(KEY, {"device": address_of(KEY), "seq": 1, "ts": 1, "type": "status",
                                 "payload": {"state": "idle"}})["signature"]
    raw = bytes.fromhex(signature[2:])
    s = int.from_bytes(raw[32:64], "big")
    assert s <= HALF_N
    high_s = raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([raw[64] ^ 1])
    assert recover_signer(digest, "0x" + high_s.hex()) is None
    assert recover_signer(digest, "0x1234") is None and recover_signer(digest, "zz") is None


@pytest.mark.parametrize(
    "raw",
    [
        {"device": "0x" + "ab" * 20, "seq": True, "ts": 1, "type": "status", "payload": {"state": "idle"}, "signature": "0x"},
        {"device": "0x" + "ab" * 20, "seq": 1, "ts": 1, "type": "energy", "payload": {"wh": 1.5}, "signature": "0x"},
        {"device": "0x" + "ab" * 20, "seq": 1, "ts": 1, "type": "status", "payload": {"state": "melting"}, "signature": "0x"},
        {"device": "0xnothex", "seq": 1, "ts": 1, "type": "status", "payload": {"state": "idle"}, "signature": "0x"},
        {"device": "0x" + "ab" * 20, "seq": 1, "ts": 1, "type": "status", "payload": {"state": "idle"}, "signature": "0x",
         "extra": 1},
    ],
    ids=["bool-seq", "float", "unknown-state", "bad-address", "extra-key"],
)
def test_malformed_events_are_named(raw):
    with pytest.raises(MalformedEventError):
        parse_event(raw)
