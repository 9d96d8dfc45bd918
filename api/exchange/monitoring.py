"""A listed product's post-issuance monitoring (patent claim 7), read from the chain alone.

The exchange keeps no monitoring data of its own and never reads the orchestrator's database:
the product's pack comes from its ProductRegistry manifest, and the cycles, triggers, measures
and replacements from PackMonitor's events since its deploy block (fetched in pages), completed
with PackMonitor's views (each cycle's full report, each measure's current status, the pack's
current root). Anyone with the chain's RPC endpoint can rebuild the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from web3 import Web3

from api.errors import NotFoundError
from api.exchange.facts import PackState, ProductState
from api.exchange.onchain import ChainReader, Contracts, require_product
from api.services.model_registry import call_view
from chain.events import DEFAULT_PAGE_BLOCKS, EventDecoder, EventRecord
from chain.leaves import to_hex32
from scoring.monitoring.triggers import DEFAULT_RULES

MONITOR = "PackMonitor"
# A rule's on-chain id is keccak256 of its name; the names of the platform's rules are shown as such.
KNOWN_RULES: dict[bytes, str] = {bytes(Web3.keccak(text=rule.id)): rule.id for rule in DEFAULT_RULES}
MEASURE_KINDS = ("weekly_reminders", "replacement_instruction")  # IPackMonitor.MeasureKind
MEASURE_STATUSES = ("none", "open", "done", "escalated", "cancelled")  # IPackMonitor.MeasureStatus
LIVE_MEASURES = frozenset({"open", "escalated"})  # still asking something of the financier
NOT_STARTED, NORMAL, MEASURES_OPEN, ESCALATED = "not_started", "normal", "measures_open", "escalated"
EVENTS = ("CycleRecorded", "TriggerFired", "MeasureOpened", "ReplacementRecorded")


def rule_name(rule_id: bytes) -> str:
    """The rule's name when it is one of the platform's rules, else its id in hex."""
    return KNOWN_RULES.get(bytes(rule_id), to_hex32(bytes(rule_id)))


def monitoring_status(cycles_done: int, measure_statuses: Iterable[str]) -> str:
    """not_started before the first cycle; escalated if any measure is; measures_open if any is open."""
    if cycles_done == 0:
        return NOT_STARTED
    statuses = set(measure_statuses)
    if ESCALATED in statuses:
        return ESCALATED
    return MEASURES_OPEN if "open" in statuses else NORMAL


def pack_state_name(state: PackState) -> str:
    """The Solidity enum's name: ``Issued``, ``Monitoring``, ``CreditChecked``..."""
    return "".join(word.title() for word in state.name.split("_"))


def _deploy_block(contracts: Contracts) -> int:
    manifest = getattr(contracts, "manifest", None)  # PlatformContracts carries it; other sources start at 0
    return 0 if manifest is None else manifest.contract(MONITOR).deploy_block


def _where(record: EventRecord) -> dict[str, Any]:
    return {"block": record.block_number, "tx_hash": record.tx_hash}


class PackMonitorReader:
    """Monitoring views of listed products, from PackMonitor's events and views."""

    def __init__(self, chain: ChainReader, *, from_block: int | None = None,
                 page_blocks: int = DEFAULT_PAGE_BLOCKS) -> None:
        self.chain = chain
        self.from_block = _deploy_block(chain.contracts) if from_block is None else from_block
        self.page_blocks = page_blocks

    @property
    def monitor(self):  # noqa: ANN201 - a web3 Contract
        return self.chain.contracts[MONITOR]

    def view(self, product_id: int) -> dict[str, Any]:
        """The product's monitoring status and its whole history on chain."""
        product = require_product(self.chain, product_id)
        if product.state is not ProductState.LISTED:
            raise NotFoundError(f"product {product_id} is not listed")
        pack_id = product.pack_id
        pack = self.chain.pack(pack_id)
        if pack is None:
            raise NotFoundError(f"product {product_id} names pack {pack_id}, which AssetPack does not hold")
        last_block = self.chain.w3.eth.block_number
        events = self._events(pack_id, last_block)
        cycles = [self._cycle(pack_id, e) for e in events["CycleRecorded"]]
        measures = [self._measure(e) for e in events["MeasureOpened"]]
        cycles_done = call_view(self.monitor.functions.cycleCount(pack_id))
        return {
            "product_id": product_id,
            "pack_id": pack_id,
            "pack_state": pack_state_name(pack.state),
            "status": monitoring_status(cycles_done, (m["status"] for m in measures)),
            "cycles_done": cycles_done,
            "open_measures": sum(m["status"] in LIVE_MEASURES for m in measures),
            "kept_root": pack.kept_root,
            "current_root": to_hex32(call_view(self.monitor.functions.currentRoot(pack_id))),
            "cycles": cycles,
            "triggers": [self._trigger(e) for e in events["TriggerFired"]],
            "measures": measures,
            "replacements": [self._replacement(e) for e in events["ReplacementRecorded"]],
            "as_of_block": last_block,
            "monitor": self.monitor.address,
        }

    def summary(self, product_id: int) -> dict[str, Any]:
        view = self.view(product_id)
        return {key: view[key] for key in ("status", "pack_state", "cycles_done", "open_measures")}

    def _events(self, pack_id: int, last_block: int) -> dict[str, list[EventRecord]]:
        decoder = EventDecoder(self.chain.w3, {MONITOR: (self.monitor.address, self.monitor.abi)})
        found: dict[str, list[EventRecord]] = {name: [] for name in EVENTS}
        for record in decoder.replay(self.from_block, last_block, page_blocks=self.page_blocks):
            if record.event in found and record.args["packId"] == pack_id:
                found[record.event].append(record)
        return found

    def _cycle(self, pack_id: int, record: EventRecord) -> dict[str, Any]:
        number = record.args["cycle"]
        report, recorded_at = call_view(self.monitor.functions.cycle(pack_id, number))
        batch, counts, balances, bad_rate, expected, realised, psi, live_count, live_balance = report
        return {
            "cycle": number, "score_batch_id": batch, "level_counts": list(counts), "level_balances": list(balances),
            "bad_rate_ppm": bad_rate, "expected_bad_rate_ppm": expected, "realised_bad_rate_ppm": realised,
            "psi_ppm": psi, "live_count": live_count, "live_balance": live_balance, "recorded_at": recorded_at,
            **_where(record),
        }

    @staticmethod
    def _trigger(record: EventRecord) -> dict[str, Any]:
        args = record.args
        return {"cycle": args["cycle"], "rule": rule_name(args["ruleId"]), "rule_id": to_hex32(args["ruleId"]),
                "evidence_hash": to_hex32(args["evidenceHash"]), **_where(record)}

    def _measure(self, record: EventRecord) -> dict[str, Any]:
        measure_id = record.args["measureId"]
        (_pack, cycle, kind, status, rule_id, subject_root, subject_count, deadline, opened_at,
         updated_at) = call_view(self.monitor.functions.measure(measure_id))
        return {
            "id": measure_id, "cycle": cycle, "kind": MEASURE_KINDS[kind], "status": MEASURE_STATUSES[status],
            "rule": rule_name(rule_id), "subject_root": to_hex32(subject_root), "subject_count": subject_count,
            "deadline": deadline, "opened_at": opened_at, "updated_at": updated_at, **_where(record),
        }

    @staticmethod
    def _replacement(record: EventRecord) -> dict[str, Any]:
        args = record.args
        return {
            "id": args["replacementId"], "cycle": args["cycle"], "measure_id": args["measureId"] or None,
            "swap_count": args["swapCount"], "previous_root": to_hex32(args["previousRoot"]),
            "new_root": to_hex32(args["newRoot"]), "out_root": to_hex32(args["outRoot"]),
            "in_root": to_hex32(args["inRoot"]), **_where(record),
        }
