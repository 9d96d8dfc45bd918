"""``audit db`` for the IoT service's tables: anchored windows, their events (each event's hash is
recomputed from its fields), warnings, freezes, reviews and devices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from api.audit.db_context import DbContext, differs, row_name
from chain.audit.findings import Finding
from chain.audit.iot_checks import event_hash, window_root
from chain.leaves import asset_id, collateral_id

WARNING_STATUS = {1: "open", 2: "resolved"}
REVIEW_OUTCOMES = ("keep", "restore", "adjust")


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "ts": row["ts_ms"]}


def compare_iot(ctx: DbContext) -> list[Finding]:
    found: list[Finding] = []
    if ctx.has("iot_window", "iot_event"):
        found += _windows(ctx)
    if ctx.has("iot_warning"):
        for w in ctx.rows("iot_warning", ("id",)):
            chain = ctx.state.warnings.get(w["chain_warning_id"]) if w["chain_warning_id"] else None
            if chain is not None:
                subject = row_name("iot_warning", w, "id")
                found += differs(subject, "level", chain["level"], w["level"])
                found += differs(subject, "status", WARNING_STATUS[chain["status"]],
                                 "resolved" if w["status"] == "resolved" else "open")
                found += differs(subject, "evidence_hash", chain["evidence_hash"], w["evidence_hash"])
    if ctx.has("iot_freeze"):
        for f in ctx.rows("iot_freeze", ("loan_id",)):
            chain = ctx.state.freezes.get("0x" + asset_id(f["loan_id"]).hex())
            subject = row_name("iot_freeze", f, "loan_id")
            if f["status"] == "active":
                found += differs(subject, "frozen_bps", chain["frozen_bps"] if chain else 0, f["frozen_bps"])
            elif f["status"] == "lifted" and chain is not None and chain["warning_id"] == f["warning_id"]:
                found += differs(subject, "status", "active", f["status"], "the chain still holds this freeze")
    if ctx.has("iot_review"):
        for r in ctx.rows("iot_review", ("id",)):
            chain = ctx.state.reviews.get(r["chain_review_id"]) if r["chain_review_id"] else None
            if chain is not None:
                found += differs(row_name("iot_review", r, "id"), "outcome", REVIEW_OUTCOMES[chain["outcome"]],
                                 r["outcome"])
    if ctx.has("iot_device"):
        for d in ctx.rows("iot_device", ("address",)):
            chain = next((v for k, v in ctx.state.devices.items() if k.lower() == d["address"].lower()), None)
            subject = row_name("iot_device", d, "address")
            if chain is None:
                found.append(Finding("db", subject, "address", None, d["address"], "no such device on chain"))
                continue
            found += differs(subject, "active", not chain["revoked"], bool(d["active"]))
            found += differs(subject, "collateral_code", chain["collateral_id"], collateral_id(d["collateral_code"]))
    return found


def _windows(ctx: DbContext) -> list[Finding]:
    events: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    found: list[Finding] = []
    for e in ctx.rows("iot_event", ("id",)):
        found += differs(row_name("iot_event", e, "id"), "event_hash", event_hash(_event(e)), e["event_hash"],
                         "the event's fields no longer hash to its signed hash")
        if e["window_id"] is not None:
            events[e["window_id"]].append(e)
    named = {f.subject for f in found}
    for w in ctx.rows("iot_window", ("id",)):
        if w["status"] != "anchored" or w["chain_window_id"] is None:
            continue
        subject = row_name("iot_window", w, "id")
        chain = ctx.state.windows.get(w["chain_window_id"])
        if chain is None:
            found.append(Finding("db", subject, "chain_window_id", None, w["chain_window_id"], "no such window"))
            continue
        found += differs(subject, "root", chain["root"], w["root"])
        found += differs(subject, "event_count", chain["event_count"], w["event_count"])
        rows = events.get(w["id"], [])
        if rows and not any(row_name("iot_event", e, "id") in named for e in rows):
            found += differs(subject, "events", chain["root"], window_root([_event(e) for e in rows]),
                             "the window's event rows give another root, and no single row could be named")
    return found
