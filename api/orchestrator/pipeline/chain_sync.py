"""Each step's chain transition, made at most once, whatever crashed before.

Before sending, the pack's on-chain state is read: a transition already made (by this process
before a crash, or by another worker) is not sent again. A race that slips past the read ends
in the contract's own refusal (``AssetPackWrongState`` with the pack already further on, or
``AssetPackDuplicateSubmission``), which is taken as "done" too. Submission is found again by
its key with ``packOfSubmission``; the score batch by ``batchOf`` (see ``publish_scores``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from api.errors import ConflictError
from api.services.model_registry import call_view
from chain.errors import ContractCustomError
from chain.events import EventDecoder, EventRecord
from chain.leaves import from_hex32, to_hex32
from chain.sender import Sender


class PackState(IntEnum):
    """IAssetPack.PackState."""

    NONE = 0
    SUBMITTED = 1
    CREDIT_CHECKED = 2
    SCORED = 3
    GRADED = 4
    FILTERED = 5
    COMMITTED = 6
    ISSUED = 7
    MONITORING = 8
    CLOSED = 9

    @property
    def label(self) -> str:
        return {"NONE": "None", "CREDIT_CHECKED": "CreditChecked"}.get(self.name, self.name.title())


class ChainMismatchError(ConflictError):
    """The chain holds something for this pack that the database did not produce."""


@dataclass(frozen=True)
class Sent:
    """A transaction this process sent, with the events it emitted (JSON-ready)."""

    tx_hash: str
    block_number: int
    sender: str
    events: list[dict]


def submission_key(pack_uid: str) -> bytes:
    return Web3.keccak(text=f"abs-pack:{pack_uid}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)
    return value


def event_dict(record: EventRecord) -> dict:
    return {"contract": record.contract, "event": record.event, "args": _jsonable(record.args),
            "log_index": record.log_index}


class PackChain:
    """The AssetPack contract as the pipeline uses it."""

    def __init__(self, asset_pack: Contract, score_registry: Contract, from_block: int = 0) -> None:
        self.asset_pack = asset_pack
        self.score_registry = score_registry
        self.from_block = from_block  # where event searches start: the deployment's first block
        contracts = {"AssetPack": asset_pack, "ScoreRegistry": score_registry}
        self._decoder = EventDecoder(asset_pack.w3, {n: (c.address, c.abi) for n, c in contracts.items()})

    def state(self, chain_pack_id: int) -> PackState:
        return PackState(call_view(self.asset_pack.functions.pack(chain_pack_id))[6])

    def pack(self, chain_pack_id: int) -> tuple:
        return call_view(self.asset_pack.functions.pack(chain_pack_id))

    def _sent(self, sender: Sender, receipt: Any) -> Sent:
        events = [event_dict(record) for record in self._decoder.decode_receipt(receipt)]
        return Sent(Web3.to_hex(receipt["transactionHash"]), receipt["blockNumber"], sender.address, events)

    def sent_of(self, sender: Sender, tx_hash: str) -> Sent:
        """A transaction sent elsewhere (e.g. by ``publish_scores``), with its decoded events."""
        return self._sent(sender, self.asset_pack.w3.eth.get_transaction_receipt(tx_hash))

    def find_transition(self, chain_pack_id: int, state: PackState) -> Sent | None:
        """The transaction that moved the pack into ``state`` (sent by a run that died before
        recording it), found from the chain's events."""
        logs = self.asset_pack.events.PackStateChanged.get_logs(
            from_block=self.from_block, argument_filters={"packId": chain_pack_id})
        for log in logs:
            if log["args"]["current"] == int(state):
                receipt = self.asset_pack.w3.eth.get_transaction_receipt(log["transactionHash"])
                tx = self.asset_pack.w3.eth.get_transaction(log["transactionHash"])
                return Sent(Web3.to_hex(log["transactionHash"]), receipt["blockNumber"], tx["from"],
                            [event_dict(record) for record in self._decoder.decode_receipt(receipt)])
        return None

    def find_score_batch(self, batch_id: int) -> Sent | None:
        logs = self.score_registry.events.ScoreBatchCommitted.get_logs(
            from_block=self.from_block, argument_filters={"batchId": batch_id})
        if not logs:
            return None
        receipt = self.asset_pack.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])
        tx = self.asset_pack.w3.eth.get_transaction(logs[0]["transactionHash"])
        return Sent(Web3.to_hex(logs[0]["transactionHash"]), receipt["blockNumber"], tx["from"],
                    [event_dict(record) for record in self._decoder.decode_receipt(receipt)])

    def submit(self, sender: Sender, *, uid: str, assets_root: str, count: int, total_balance: int,
               expected_ppm: int) -> tuple[int, Sent | None]:
        """The pack's on-chain id: found by its submission key, or made by ``submitPack``."""
        key = submission_key(uid)
        existing = call_view(self.asset_pack.functions.packOfSubmission(key))
        if existing:
            self._check_adopted(existing, sender, assets_root)
            return existing, None
        call = self.asset_pack.functions.submitPack(key, from_hex32(assets_root), count, total_balance, expected_ppm)
        try:
            receipt = sender.transact(call)
        except ContractCustomError as exc:
            if exc.name != "AssetPackDuplicateSubmission":
                raise
            self._check_adopted(int(exc.args[1]), sender, assets_root)
            return int(exc.args[1]), None
        sent = self._sent(sender, receipt)
        (event,) = [e for e in sent.events if e["event"] == "PackSubmitted"]
        return int(event["args"]["packId"]), sent

    def _check_adopted(self, chain_pack_id: int, sender: Sender, assets_root: str) -> None:
        financier, _key, root = self.pack(chain_pack_id)[:3]
        if financier.lower() != sender.address.lower() or to_hex32(root) != assets_root.lower():
            raise ChainMismatchError(
                f"on-chain pack {chain_pack_id} holds this submission key but another financier or assets root"
            )

    def advance(self, sender: Sender, chain_pack_id: int, expected: PackState, call: ContractFunction) -> Sent | None:
        """Send ``call`` (a transition out of ``expected``) unless the pack is already past it."""
        state = self.state(chain_pack_id)
        if state > expected:
            return None
        if state < expected:
            raise ChainMismatchError(
                f"on-chain pack {chain_pack_id} is {state.label}; this step needs it {expected.label}"
            )
        try:
            receipt = sender.transact(call)
        except ContractCustomError as exc:
            if exc.name == "AssetPackWrongState" and int(exc.args[1]) > int(expected):
                return None  # another worker made this transition between our read and our send
            raise
        return self._sent(sender, receipt)
