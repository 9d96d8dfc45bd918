"""IoT event leaves as the auditor recomputes them: an event's hash from its signed fields, and a
window's root from its events (``api/iot/README.md``; leaf ``chain.leaves.IOT_EVENT_LEAF``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chain.audit.leafset import root_of, tree_of
from chain.leaves import IOT_EVENT_LEAF, from_hex32, record_hash


def event_hash(event: Mapping[str, Any]) -> str:
    """keccak256 of the canonical JSON of ``{device, seq, ts, type, payload}`` (device lowercase)."""
    return "0x" + record_hash({"device": event["device"].lower(), "seq": event["seq"], "ts": event["ts"],
                               "type": event["type"], "payload": event["payload"]}).hex()


def window_root(events: Sequence[Mapping[str, Any]]) -> str:
    """The root of a window's events (device, seq, ts, event hash), as anchored."""
    devices = np.frombuffer(b"".join(bytes.fromhex(e["device"][2:]) for e in events), np.uint8).reshape(-1, 20)
    hashes = np.frombuffer(b"".join(from_hex32(e["event_hash"]) for e in events), np.uint8).reshape(-1, 32)
    return root_of(tree_of([devices, np.array([e["seq"] for e in events], np.uint64),
                            np.array([e["ts"] for e in events], np.uint64), hashes], IOT_EVENT_LEAF))
