"""The event types devices may send, their payloads, and what each becomes for the rules.

Every value is an integer (or, for ``status``, one of the states): a float could be written
two ways and would break the canonical hash every party recomputes. Unknown types, missing or
extra keys and out-of-range values make an event malformed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.iot.geo import E7
from scoring.iot.telemetry import STATES, Fix, OrderCount, Reading, StatusSample, TemperatureSample

INT63 = 2**63 - 1
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_EVENT_KEYS = frozenset({"device", "seq", "ts", "type", "payload", "signature"})

# type -> {key: (low, high)}; None bounds a free string field checked separately
PAYLOADS: Mapping[str, Mapping[str, tuple[int, int] | None]] = {
    "status": {"state": None},
    "temperature": {"milli_c": (-273_150, 2_000_000)},
    "location": {"lat_e7": (-90 * E7, 90 * E7), "lon_e7": (-180 * E7, 180 * E7)},
    "utilisation": {"bps": (0, 10_000)},
    "orders": {"total": (0, 10**9), "delayed": (0, 10**9)},
    "energy": {"wh": (0, 10**15)},
    "footfall": {"count": (0, 10**9)},
}


class MalformedEventError(ValueError):
    """The event's shape or values are wrong; ``str()`` says which."""


@dataclass(frozen=True)
class ParsedEvent:
    device: str  # lowercase
    seq: int
    ts: int
    type: str
    payload: dict
    signature: str


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MalformedEventError(f"{name} must be an integer in {low}..{high}")
    return value


def parse_event(raw: Any) -> ParsedEvent:
    """Check one received event's structure; raises :class:`MalformedEventError`."""
    if not isinstance(raw, dict):
        raise MalformedEventError("an event is a JSON object")
    if set(raw) != _EVENT_KEYS:
        missing, extra = sorted(_EVENT_KEYS - set(raw)), sorted(set(raw) - _EVENT_KEYS)
        raise MalformedEventError(f"event keys: missing {missing}, unexpected {extra}")
    device = raw["device"]
    if not isinstance(device, str) or not _ADDRESS.match(device):
        raise MalformedEventError("device must be a 0x-hex address")
    seq = _int(raw["seq"], "seq", 0, INT63)
    ts = _int(raw["ts"], "ts", 0, INT63)
    type_ = raw["type"]
    if type_ not in PAYLOADS:
        raise MalformedEventError(f"type must be one of {sorted(PAYLOADS)}")
    if not isinstance(raw["signature"], str):
        raise MalformedEventError("signature must be a 0x-hex string")
    return ParsedEvent(device.lower(), seq, ts, type_, check_payload(type_, raw["payload"]), raw["signature"])


def check_payload(type_: str, payload: Any) -> dict:
    spec = PAYLOADS[type_]
    if not isinstance(payload, dict) or set(payload) != set(spec):
        raise MalformedEventError(f"a {type_} payload has exactly the keys {sorted(spec)}")
    for key, bounds in spec.items():
        if bounds is None:
            if payload[key] not in STATES:
                raise MalformedEventError(f"{key} must be one of {sorted(STATES)}")
        else:
            _int(payload[key], f"payload.{key}", *bounds)
    if type_ == "orders" and payload["delayed"] > payload["total"]:
        raise MalformedEventError("payload.delayed cannot exceed payload.total")
    return payload


def to_sample(type_: str, ts_ms: int, payload: Mapping[str, Any]) -> tuple[str, object]:
    """The telemetry series (a ``Telemetry`` field name) and the sample an event adds to it."""
    if type_ == "status":
        return "status", StatusSample(ts_ms, payload["state"])
    if type_ == "temperature":
        return "temperature", TemperatureSample(ts_ms, payload["milli_c"])
    if type_ == "location":
        return "fixes", Fix(ts_ms, payload["lat_e7"], payload["lon_e7"])
    if type_ == "orders":
        return "orders", OrderCount(ts_ms, payload["total"], payload["delayed"])
    field_of = {"utilisation": ("utilisation", "bps"), "energy": ("energy", "wh"), "footfall": ("footfall", "count")}
    series, key = field_of[type_]
    return series, Reading(ts_ms, payload[key])
