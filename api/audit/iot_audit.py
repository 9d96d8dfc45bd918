"""``audit iot --window ID``: anchored event windows from the chain, and with the IoT bundle every
event: its hash recomputed, its device's signature, its device belonging to the window's gateway,
and all of them giving the window's root.

The IoT bundle (``api.audit.export_iot``, from the IoT service's database, the operator's side):
JSON lines, a header ``{"kind": "header", "format": "abs-audit-bundle", "version": 1, "subject":
"iot", "iot": {"windows": [...]}}`` then one ``{"kind": "event", "window", "device", "seq",
"ts", "type", "payload", "event_hash", "signature"}`` per event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from api.audit.bundle import checked_header
from api.audit.report import AuditReport
from chain.audit.findings import Finding, mismatch
from chain.audit.handlers import hex32
from chain.audit.iot_checks import event_hash, window_root
from chain.contracts import contract_handle
from chain.leaves import from_hex32
from chain.manifest import Manifest


def read_iot_bundle(lines: Iterable[str]) -> dict[int, list[dict[str, Any]]]:
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for number, line in enumerate(line for line in lines if line.strip()):
        item = json.loads(line)
        if number == 0:
            checked_header(item, "iot")
        elif item.get("kind") == "event":
            events[int(item["window"])].append(item)
    return events


def audit_iot(w3: Web3, manifest: Manifest, window_ids: Sequence[int],
              bundle: dict[int, list[dict[str, Any]]] | None = None) -> AuditReport:
    report = AuditReport("iot", "windows " + ",".join(map(str, window_ids)))
    registry = contract_handle(w3, manifest, "CollateralRegistry")
    count = registry.functions.windowCount().call()
    checked = 0
    for window_id in window_ids:
        subject = f"window {window_id}"
        if not 1 <= window_id <= count:
            report.findings.append(Finding("iot", subject, "exists", True, False))
            continue
        gateway, root, event_count = registry.functions.window(window_id).call()[:3]
        if bundle is None:
            continue
        events = bundle.get(window_id, [])
        checked += len(events)
        report.findings += mismatch("iot", subject, "event_count", event_count, len(events))
        for e in events:
            report.findings += _event(registry, gateway, e)
        if events:
            report.findings += mismatch("iot", subject, "root", hex32(root), window_root(events),
                                       "the bundle's events give another root")
    report.checked = {"windows": len(window_ids), "events": checked}
    return report


def _event(registry, gateway: str, e: dict[str, Any]) -> list[Finding]:  # noqa: ANN001
    subject = f"event {e['device']}#{e['seq']}"
    found = mismatch("iot", subject, "event_hash", event_hash(e), e["event_hash"],
                     "the event's fields do not hash to its hash")
    try:
        signer = Account.recover_message(encode_defunct(primitive=from_hex32(e["event_hash"])),
                                         signature=e["signature"])
    except Exception:  # noqa: BLE001 - any malformed signature is a finding, not a crash
        signer = None
    found += mismatch("iot", subject, "signer", Web3.to_checksum_address(e["device"]), signer,
                      "the device's own key must sign its event")
    device = registry.functions.device(Web3.to_checksum_address(e["device"])).call()
    found += mismatch("iot", subject, "gateway", gateway, device[0], "the device must belong to the window's gateway")
    return found
