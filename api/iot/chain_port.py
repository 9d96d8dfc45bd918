"""The IoT service's door to ``CollateralRegistry``: one method per transaction or read it needs.

Who signs: the financier member pledges collaterals; a gateway member registers its devices
and anchors their windows; the risk member (SCORER) raises warnings and freezes; the reviewer
member (AUDITOR) records review outcomes. ``CollateralChain`` is the interface the services
use, so a fake could stand in; ``Web3CollateralChain`` is the real adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from api.platform import Platform
from chain.leaves import asset_id, collateral_id, from_hex32
from chain.roles import Role

CONTRACT = "CollateralRegistry"
# Fixed gas limits (about twice what each call uses) for the calls on the latency path: no
# eth_estimateGas round trip before a window's anchor, a warning or a freeze. Zero-fee network.
ANCHOR_GAS, WARNING_GAS, FREEZE_GAS = 300_000, 400_000, 200_000


class CollateralChain(Protocol):
    def register_collateral(self, financier: str, code: str, loan_ids: Sequence[str], profile_hash: bytes) -> str: ...
    def link_loan(self, financier: str, code: str, loan_id: str) -> str: ...
    def register_device(self, gateway: str, device: str, code: str) -> str: ...
    def collateral_financier(self, code: str) -> str: ...
    def device_record(self, device: str) -> tuple[str, bytes]: ...
    def revoke_device(self, gateway: str, device: str) -> str: ...
    def anchor(self, gateway: str, root: str, count: int, from_ts: int, to_ts: int) -> tuple[int, str]: ...
    def window_of_root(self, root: str) -> int: ...
    def window(self, window_id: int) -> dict: ...
    def raise_warning(self, code: str, level: int, rule: str, evidence: bytes, observed_at: int) -> tuple[int, str]: ...
    def find_warning(self, code: str, evidence: bytes) -> int | None: ...
    def freeze(self, loan_id: str, warning_id: int, frozen_bps: int, amount: int) -> str: ...
    def freeze_of(self, loan_id: str) -> tuple[int, int]: ...
    def record_review(self, warning_id: int, outcome: int, level: int, bps: int, notes: bytes) -> tuple[int, str]: ...
    def verify_event(self, window_id: int, device: str, seq: int, ts: int, event_hash: str, proof: list[str]) -> bool: ...
    def member_address(self, member: str) -> str: ...


def rule_id(rule: str) -> bytes:
    return Web3.keccak(text=rule)


class Web3CollateralChain:
    """``CollateralRegistry`` through the platform's senders (each member signs its own calls)."""

    def __init__(self, platform: Platform, *, risk_member: str | None = None, reviewer_member: str | None = None):
        self.platform = platform
        self._risk_member = risk_member
        self._reviewer_member = reviewer_member

    @cached_property
    def contract(self) -> Contract:
        return self.platform.contract(CONTRACT)

    @cached_property
    def risk_member(self) -> str:
        return self._risk_member or self.platform.member_with(Role.SCORER)

    @cached_property
    def reviewer_member(self) -> str:
        return self._reviewer_member or self.platform.member_with(Role.AUDITOR)

    def member_address(self, member: str) -> str:
        return self.platform.sender(member).address

    def _send(self, member: str, call, gas: int | None = None) -> dict:  # noqa: ANN001 - a bound function
        return self.platform.sender(member).transact(call, gas=gas)

    @staticmethod
    def _tx(receipt: dict) -> str:
        return Web3.to_hex(receipt["transactionHash"])

    def register_collateral(self, financier: str, code: str, loan_ids: Sequence[str], profile_hash: bytes) -> str:
        call = self.contract.functions.registerCollateral(collateral_id(code), [asset_id(x) for x in loan_ids], profile_hash)
        return self._tx(self._send(financier, call))

    def link_loan(self, financier: str, code: str, loan_id: str) -> str:
        return self._tx(self._send(financier, self.contract.functions.linkLoan(collateral_id(code), asset_id(loan_id))))

    def register_device(self, gateway: str, device: str, code: str) -> str:
        call = self.contract.functions.registerDevice(Web3.to_checksum_address(device), collateral_id(code))
        return self._tx(self._send(gateway, call))

    def collateral_financier(self, code: str) -> str:
        return self.contract.functions.collateral(collateral_id(code)).call()[0]

    def device_record(self, device: str) -> tuple[str, bytes]:
        """The gateway a device is registered under and its collateral id."""
        gateway, collateral, _registered, _revoked = self.contract.functions.device(
            Web3.to_checksum_address(device)).call()
        return gateway, bytes(collateral)

    def revoke_device(self, gateway: str, device: str) -> str:
        return self._tx(self._send(gateway, self.contract.functions.revokeDevice(Web3.to_checksum_address(device))))

    def anchor(self, gateway: str, root: str, count: int, from_ts: int, to_ts: int) -> tuple[int, str]:
        call = self.contract.functions.anchorEvents(from_hex32(root), count, from_ts, to_ts)
        receipt = self._send(gateway, call, ANCHOR_GAS)
        (anchored,) = self.contract.events.EventsAnchored().process_receipt(receipt, errors=DISCARD)
        return anchored["args"]["windowId"], self._tx(receipt)

    def window_of_root(self, root: str) -> int:
        return self.contract.functions.windowOfRoot(from_hex32(root)).call()

    def window(self, window_id: int) -> dict:
        gateway, root, count, from_ts, to_ts, anchored_at = self.contract.functions.window(window_id).call()
        return {"gateway": gateway, "root": Web3.to_hex(root), "event_count": count, "from_ts": from_ts,
                "to_ts": to_ts, "anchored_at": anchored_at}

    def raise_warning(self, code: str, level: int, rule: str, evidence: bytes, observed_at: int) -> tuple[int, str]:
        call = self.contract.functions.raiseWarning(collateral_id(code), level, rule_id(rule), evidence, observed_at)
        receipt = self._send(self.risk_member, call, WARNING_GAS)
        (raised,) = self.contract.events.WarningRaised().process_receipt(receipt, errors=DISCARD)
        return raised["args"]["warningId"], self._tx(receipt)

    def find_warning(self, code: str, evidence: bytes) -> int | None:
        """The warning already raised with this evidence hash (crash recovery), if any."""
        start = self.platform.manifest.contract(CONTRACT).deploy_block
        logs = self.contract.events.WarningRaised().get_logs(
            from_block=start, argument_filters={"collateralId": collateral_id(code)}
        )
        found = [log["args"]["warningId"] for log in logs if bytes(log["args"]["evidenceHash"]) == evidence]
        return found[0] if found else None

    def freeze(self, loan_id: str, warning_id: int, frozen_bps: int, amount: int) -> str:
        call = self.contract.functions.freezeCredit(asset_id(loan_id), warning_id, frozen_bps, amount)
        return self._tx(self._send(self.risk_member, call, FREEZE_GAS))

    def freeze_of(self, loan_id: str) -> tuple[int, int]:
        warning_id, bps, _at = self.contract.functions.freezeOf(asset_id(loan_id)).call()
        return warning_id, bps

    def record_review(self, warning_id: int, outcome: int, level: int, bps: int, notes: bytes) -> tuple[int, str]:
        call = self.contract.functions.recordReview(warning_id, outcome, level, bps, notes)
        receipt = self._send(self.reviewer_member, call)
        (recorded,) = self.contract.events.ReviewRecorded().process_receipt(receipt, errors=DISCARD)
        return recorded["args"]["reviewId"], self._tx(receipt)

    def verify_event(self, window_id: int, device: str, seq: int, ts: int, event_hash: str, proof: list[str]) -> bool:
        return self.contract.functions.verifyEvent(
            window_id, Web3.to_checksum_address(device), seq, ts, from_hex32(event_hash), [from_hex32(p) for p in proof]
        ).call()
