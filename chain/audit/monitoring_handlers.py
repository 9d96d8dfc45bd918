"""PackMonitor's events in the replay (DESIGN step 8): cycles, triggers, measures, replacements.

Kept under ``state.extra["monitoring"][pack id]``; a replacement also moves the pack's current
kept root (``PackRecord.kept_root`` stays the committed one, ``current_root`` follows swaps).
"""

from __future__ import annotations

from typing import Any

from chain.audit.handlers import hex32, register
from chain.audit.state import ChainState
from chain.events import EventRecord

MEASURE_KINDS = ("weekly_reminders", "replacement_instruction")  # IPackMonitor.MeasureKind
MEASURE_STATUSES = ("none", "open", "done", "escalated", "cancelled")  # IPackMonitor.MeasureStatus


def _pack(s: ChainState, r: EventRecord) -> dict[str, Any]:
    packs = s.extra.setdefault("monitoring", {})
    return packs.setdefault(r.args["packId"], {"cycles": {}, "triggers": [], "measures": {}, "replacements": {},
                                                "replaced": {}, "current_root": None})


def _cycle(s: ChainState, r: EventRecord) -> None:
    a = r.args
    _pack(s, r)["cycles"][a["cycle"]] = {"score_batch_id": a["scoreBatchId"], "bad_rate_ppm": a["badRatePpm"],
                                         "realised_bad_rate_ppm": a["realisedBadRatePpm"], "psi_ppm": a["psiPpm"],
                                         "live_count": a["liveCount"], "live_balance": a["liveBalance"],
                                         "level_counts": list(a["levelCounts"]),
                                         "level_balances": list(a["levelBalances"])}


def _trigger(s: ChainState, r: EventRecord) -> None:
    _pack(s, r)["triggers"].append({"cycle": r.args["cycle"], "rule_id": hex32(r.args["ruleId"]),
                                    "evidence_hash": hex32(r.args["evidenceHash"])})


def _measure(s: ChainState, r: EventRecord) -> None:
    a = r.args
    _pack(s, r)["measures"][a["measureId"]] = {"cycle": a["cycle"], "kind": MEASURE_KINDS[a["kind"]],
                                               "rule_id": hex32(a["ruleId"]), "subject_root": hex32(a["subjectRoot"]),
                                               "subject_count": a["subjectCount"], "deadline": a["deadline"],
                                               "status": "open"}


def _measure_status(s: ChainState, r: EventRecord) -> None:
    _pack(s, r)["measures"].setdefault(r.args["measureId"], {})["status"] = MEASURE_STATUSES[r.args["current"]]


def _replacement(s: ChainState, r: EventRecord) -> None:
    a, pack = r.args, _pack(s, r)
    pack["replacements"][a["replacementId"]] = {"cycle": a["cycle"], "measure_id": a["measureId"],
                                                "previous_root": hex32(a["previousRoot"]),
                                                "new_root": hex32(a["newRoot"]), "out_root": hex32(a["outRoot"]),
                                                "in_root": hex32(a["inRoot"]), "swap_count": a["swapCount"]}
    pack["current_root"] = hex32(a["newRoot"])


def _asset_replaced(s: ChainState, r: EventRecord) -> None:
    _pack(s, r)["replaced"][hex32(r.args["oldAssetId"])] = hex32(r.args["newAssetId"])


register("PackMonitor", {"CycleRecorded": _cycle, "TriggerFired": _trigger, "MeasureOpened": _measure,
                         "MeasureStatusChanged": _measure_status, "ReplacementRecorded": _replacement,
                         "AssetReplaced": _asset_replaced})
