"""Decode the platform's events: from one receipt, or from every block since deployment.

An auditor replays every event from the manifest's deploy block with :meth:`EventDecoder.replay`;
the range is fetched in pages (``eth_getLogs`` is capped by most nodes), and a page the node
refuses as too large is halved until it passes. Records come out ordered by block and log index.
A log of a manifest contract that matches none of its ABI's events is an error, not a skip: it
means the ABI the auditor holds is not the one deployed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError

from chain.errors import EventDecodingError
from chain.manifest import Manifest

DEFAULT_PAGE_BLOCKS = 5_000


@dataclass(frozen=True)
class EventRecord:
    """One decoded event."""

    contract: str
    event: str
    args: dict[str, Any]
    block_number: int
    tx_hash: str
    log_index: int
    address: str

    @property
    def position(self) -> tuple[int, int]:
        return self.block_number, self.log_index


class EventDecoder:
    """Decodes logs of a fixed set of contracts: ``{name: (address, abi)}``."""

    def __init__(self, w3: Web3, contracts: Mapping[str, tuple[str, list[dict]]]) -> None:
        self.w3 = w3
        self._by_address: dict[str, tuple[str, Any, dict[bytes, str]]] = {}
        for name, (address, abi) in contracts.items():
            handle = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
            topics = {
                event_abi_to_log_topic(entry): entry["name"]
                for entry in abi
                if entry.get("type") == "event" and not entry.get("anonymous", False)
            }
            self._by_address[handle.address.lower()] = (name, handle, topics)

    @classmethod
    def from_manifest(
        cls, w3: Web3, manifest: Manifest, artifacts: Mapping[str, Any] | None = None
    ) -> EventDecoder:
        """A decoder over every contract of ``manifest`` (ABIs from the compiled artifacts)."""
        if artifacts is None:
            from chain.contracts import platform_artifacts

            artifacts = platform_artifacts()
        return cls(w3, {name: (r.address, artifacts[name].abi) for name, r in manifest.contracts.items()})

    @property
    def addresses(self) -> list[str]:
        return [handle.address for _, handle, _ in self._by_address.values()]

    def decode_log(self, log: Mapping[str, Any]) -> EventRecord | None:
        """The record for ``log``, or None when another contract emitted it."""
        known = self._by_address.get(str(log["address"]).lower())
        if known is None:
            return None
        name, handle, topics = known
        topic0 = HexBytes(log["topics"][0]) if log["topics"] else None
        event_name = topics.get(bytes(topic0)) if topic0 is not None else None
        if event_name is None:
            raise EventDecodingError(
                f"{name} at {handle.address} emitted a log (topic {topic0.hex() if topic0 else 'none'}) "
                f"that matches no event of its ABI: is the manifest's ABI the deployed one?"
            )
        decoded = handle.events[event_name]().process_log(log)
        return EventRecord(
            contract=name,
            event=event_name,
            args=dict(decoded["args"]),
            block_number=decoded["blockNumber"],
            tx_hash=Web3.to_hex(decoded["transactionHash"]),
            log_index=decoded["logIndex"],
            address=handle.address,
        )

    def decode_logs(self, logs: Iterable[Mapping[str, Any]]) -> list[EventRecord]:
        records = [r for r in (self.decode_log(log) for log in logs) if r is not None]
        return sorted(records, key=lambda r: r.position)

    def decode_receipt(self, receipt: Mapping[str, Any]) -> list[EventRecord]:
        return self.decode_logs(receipt["logs"])

    def replay(
        self,
        from_block: int,
        to_block: int | None = None,
        *,
        page_blocks: int = DEFAULT_PAGE_BLOCKS,
    ) -> Iterator[EventRecord]:
        """Every event of these contracts in ``[from_block, to_block]`` (default: latest), in order."""
        last = self.w3.eth.block_number if to_block is None else to_block
        start, page = from_block, max(1, page_blocks)
        while start <= last:
            end = min(start + page - 1, last)
            try:
                logs = self.w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": self.addresses})
            except Web3RPCError:
                if page == 1:
                    raise
                page //= 2  # the node caps ranges or result sizes: ask for less
                continue
            yield from self.decode_logs(logs)
            start = end + 1


def replay_platform(
    w3: Web3, manifest: Manifest, *, to_block: int | None = None, page_blocks: int = DEFAULT_PAGE_BLOCKS
) -> Iterator[EventRecord]:
    """Every platform event since the manifest's deploy block: the auditor's starting point."""
    decoder = EventDecoder.from_manifest(w3, manifest)
    return decoder.replay(manifest.deploy_block, to_block, page_blocks=page_blocks)
