"""The chain as monitoring sees it: the product and its pack, and PackMonitor's records.

Every write first looks at the chain (a view or its own events) so that a cycle resumed after
a crash never records anything twice: a cycle already recorded, a trigger already fired, a
measure already opened or a replacement already made is adopted instead of sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from api.errors import ConflictError, NotFoundError
from api.platform import Platform
from api.services.model_registry import call_view
from chain.leaves import from_hex32, to_hex32
from chain.sender import Sender

MEASURE_KINDS = ("weekly_reminders", "replacement_instruction")  # IPackMonitor.MeasureKind order
MEASURE_STATUSES = ("none", "open", "done", "escalated", "cancelled")  # IPackMonitor.MeasureStatus order
ISSUED, MONITORING = 7, 8  # IAssetPack.PackState


def rule_key(rule_id: str) -> bytes:
    """A rule's on-chain id: keccak256 of its name (the name itself is in the evidence)."""
    return Web3.keccak(text=rule_id)


@dataclass(frozen=True)
class ChainProduct:
    product_id: int
    chain_pack_id: int
    kept_root: str
    kept_count: int
    kept_balance: int
    model_id: int
    financier: str
    exchange: str
    listed: bool
    listed_at: int


@dataclass(frozen=True)
class Sent:
    tx_hash: str | None  # None: found on chain, made by an earlier run
    value: int | None = None


class MonitorChain:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.monitor = platform.contract("PackMonitor")
        self.asset_pack = platform.contract("AssetPack")
        self.products = platform.contract("ProductRegistry")

    def _events(self, event: str, **filters: Any) -> list[Any]:
        start = self.platform.manifest.deploy_block
        return list(getattr(self.monitor.events, event)().get_logs(from_block=start, argument_filters=filters))

    @staticmethod
    def _hash(receipt: Any) -> str:
        return Web3.to_hex(receipt["transactionHash"])

    # ------------------------------------------------------------ product and pack

    def product(self, product_id: int) -> ChainProduct:
        if not 0 < product_id <= call_view(self.products.functions.productCount()):
            raise NotFoundError(f"no product {product_id} on chain")
        product = call_view(self.products.functions.product(product_id))
        terms = product[0]
        return ChainProduct(
            product_id=product_id, chain_pack_id=int(terms[1]), kept_root=to_hex32(terms[2]), kept_count=int(terms[3]),
            kept_balance=int(terms[4]), model_id=int(terms[5]), financier=product[1], exchange=product[5],
            listed=int(product[2]) == 2, listed_at=int(product[4]),
        )

    def pack_state(self, chain_pack_id: int) -> int:
        return int(call_view(self.asset_pack.functions.pack(chain_pack_id))[6])

    def start_monitoring(self, sender: Sender, chain_pack_id: int) -> Sent:
        state = self.pack_state(chain_pack_id)
        if state == MONITORING:
            return Sent(None)
        if state != ISSUED:
            raise ConflictError(f"pack {chain_pack_id} is in state {state} on chain; monitoring starts once issued")
        return Sent(self._hash(sender.transact(self.asset_pack.functions.startMonitoring(chain_pack_id))))

    # ------------------------------------------------------------ cycles and triggers

    def cycle_count(self, chain_pack_id: int) -> int:
        return int(call_view(self.monitor.functions.cycleCount(chain_pack_id)))

    def record_cycle(self, sender: Sender, chain_pack_id: int, cycle: int, report: tuple) -> Sent:
        done = self.cycle_count(chain_pack_id)
        if done >= cycle:
            return Sent(None)
        return Sent(self._hash(sender.transact(self.monitor.functions.recordCycle(chain_pack_id, cycle, report))))

    def record_trigger(self, sender: Sender, chain_pack_id: int, cycle: int, rule_id: str, evidence_hash: bytes) -> Sent:
        key = rule_key(rule_id)
        if call_view(self.monitor.functions.triggerFired(chain_pack_id, cycle, key)):
            return Sent(None)
        call = self.monitor.functions.recordTrigger(chain_pack_id, cycle, key, evidence_hash)
        return Sent(self._hash(sender.transact(call)))

    # ------------------------------------------------------------ measures

    def find_measure(self, chain_pack_id: int, cycle: int, kind: str, rule_id: str) -> int | None:
        wanted = (cycle, MEASURE_KINDS.index(kind), rule_key(rule_id))
        for log in self._events("MeasureOpened", packId=chain_pack_id):
            args = log["args"]
            if (int(args["cycle"]), int(args["kind"]), bytes(args["ruleId"])) == wanted:
                return int(args["measureId"])
        return None

    def open_measure(self, sender: Sender, chain_pack_id: int, cycle: int, kind: str, rule_id: str,
                     subject_root: str, subject_count: int, deadline: int) -> Sent:
        found = self.find_measure(chain_pack_id, cycle, kind, rule_id)
        if found is not None:
            return Sent(None, found)
        call = self.monitor.functions.openMeasure(chain_pack_id, cycle, MEASURE_KINDS.index(kind), rule_key(rule_id),
                                                  from_hex32(subject_root), subject_count, deadline)
        receipt = sender.transact(call)
        (event,) = self.monitor.events.MeasureOpened().process_receipt(receipt, errors=DISCARD)
        return Sent(self._hash(receipt), int(event["args"]["measureId"]))

    def measure_status(self, measure_id: int) -> str:
        measure = call_view(self.monitor.functions.measure(measure_id))
        return MEASURE_STATUSES[int(measure[3])]

    def set_measure_status(self, sender: Sender, measure_id: int, status: str) -> Sent:
        if self.measure_status(measure_id) == status:
            return Sent(None)
        call = self.monitor.functions.setMeasureStatus(measure_id, MEASURE_STATUSES.index(status))
        return Sent(self._hash(sender.transact(call)))

    # ------------------------------------------------------------ replacements

    def current_root(self, chain_pack_id: int) -> str:
        return to_hex32(call_view(self.monitor.functions.currentRoot(chain_pack_id)))

    def find_replacement(self, chain_pack_id: int, previous_root: str, new_root: str) -> int | None:
        for log in self._events("ReplacementRecorded", packId=chain_pack_id):
            args = log["args"]
            if (to_hex32(args["previousRoot"]), to_hex32(args["newRoot"])) == (previous_root, new_root):
                return int(args["replacementId"])
        return None

    def record_replacement(self, sender: Sender, chain_pack_id: int, cycle: int, measure_id: int, *,
                           previous_root: str, new_root: str, out_root: str, in_root: str,
                           old_asset_ids: Sequence[bytes], new_asset_ids: Sequence[bytes]) -> Sent:
        found = self.find_replacement(chain_pack_id, previous_root, new_root)
        if found is not None:
            return Sent(None, found)
        call = self.monitor.functions.recordReplacement(
            chain_pack_id, cycle, measure_id, from_hex32(previous_root), from_hex32(new_root), from_hex32(out_root),
            from_hex32(in_root), list(old_asset_ids), list(new_asset_ids),
        )
        receipt = sender.transact(call)
        (event,) = self.monitor.events.ReplacementRecorded().process_receipt(receipt, errors=DISCARD)
        return Sent(self._hash(receipt), int(event["args"]["replacementId"]))
