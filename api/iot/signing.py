"""Signed device events: the canonical form, its hash, and EIP-191 signatures over the hash.

A device signs ``event_hash = keccak256(canonical JSON of {device, seq, ts, type, payload})``
(keys sorted, compact, UTF-8; ``device`` as lowercase 0x-hex, ``ts`` in unix ms) as an
EIP-191 ``personal_sign`` message of those 32 bytes, i.e. the digest
``keccak256("\\x19Ethereum Signed Message:\\n32" || event_hash)``. Any Ethereum wallet library
produces and checks the same signature (``eth_account.messages.encode_defunct(primitive=h)``).

Recovery uses libsecp256k1 (coincurve) directly: about 40 us per event, where eth-account's
general path costs several times that. High-s signatures are refused (EIP-2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from coincurve import PrivateKey, PublicKey

from chain.leaves import canonical_json
from chain.merkle_hashing import keccak256

EIP191_PREFIX = b"\x19Ethereum Signed Message:\n32"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def canonical_event(device: str, seq: int, ts: int, type_: str, payload: Mapping[str, Any]) -> bytes:
    return canonical_json({"device": device.lower(), "seq": seq, "ts": ts, "type": type_, "payload": payload})


def payload_json(payload: Mapping[str, Any]) -> str:
    """The payload's canonical JSON (as ``chain.leaves.canonical_json`` writes it)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_event_fast(device: str, seq: int, ts: int, type_: str, payload_text: str) -> bytes:
    """``canonical_event`` from an already canonical payload, for a lowercase hex device and integer
    seq and ts (what ``payloads.parse_event`` guarantees): one JSON encoding per event, not two.
    The keys are written in sorted order: device, payload, seq, ts, type."""
    return (f'{{"device":"{device}","payload":{payload_text},"seq":{seq},"ts":{ts},'
            f'"type":{json.dumps(type_, ensure_ascii=False)}}}').encode()


def event_hash(canonical: bytes) -> bytes:
    return keccak256(canonical)


def signing_digest(hash32: bytes) -> bytes:
    """The EIP-191 digest a device signs for an event hash."""
    return keccak256(EIP191_PREFIX + hash32)


def address_of(private_key: bytes) -> str:
    public = PrivateKey(private_key).public_key.format(compressed=False)
    return "0x" + keccak256(public[1:])[-20:].hex()


def sign_hash(private_key: bytes, hash32: bytes) -> str:
    """The 65-byte r || s || v (v = 27 or 28) signature of an event hash, as 0x-hex."""
    signature = PrivateKey(private_key).sign_recoverable(signing_digest(hash32), hasher=None)
    return "0x" + signature[:64].hex() + format(signature[64] + 27, "02x")


def recover_signer(hash32: bytes, signature_hex: str) -> str | None:
    """The lowercase address that signed ``hash32``, or None for a malformed or high-s signature."""
    try:
        raw = bytes.fromhex(signature_hex[2:] if signature_hex.startswith("0x") else signature_hex)
    except (ValueError, TypeError, AttributeError):
        return None
    if len(raw) != 65:
        return None
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    if v not in (0, 1) or int.from_bytes(raw[32:64], "big") > HALF_N:
        return None
    try:
        public = PublicKey.from_signature_and_message(raw[:64] + bytes([v]), signing_digest(hash32), hasher=None)
    except Exception:  # libsecp256k1 refuses signatures that recover no point
        return None
    return "0x" + keccak256(public.format(compressed=False)[1:])[-20:].hex()


def sign_event(private_key: bytes, event: Mapping[str, Any]) -> dict:
    """``event`` ({device, seq, ts, type, payload}) with its ``signature``: what a device sends."""
    canonical = canonical_event(event["device"], event["seq"], event["ts"], event["type"], event["payload"])
    return {**event, "device": event["device"].lower(), "signature": sign_hash(private_key, event_hash(canonical))}
