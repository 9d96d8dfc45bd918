"""The bureau's door to ``CreditRegistry``: commit a batch root, find a root already committed.

Behind a small protocol so that tests can stand in a failing anchor (a crash between storing a
batch and committing it, or after sending but before recording the result).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from web3.contract import Contract

from api.bureau.commitments import as_of_seconds
from api.errors import ChainUnavailableError
from chain.errors import ContractCustomError
from chain.leaves import from_hex32, to_hex32
from chain.sender import Sender

DUPLICATE_ROOT = "CreditRegistryDuplicateRoot"


class CreditAnchor(Protocol):
    def committed_batch(self, root: str) -> int:
        """The on-chain batch id committed with ``root``; 0 if none."""
        ...

    def commit(self, root: str, record_count: int, as_of: dt.date) -> tuple[int, str | None]:
        """Commit a root; (batch id, tx hash). A root committed meanwhile yields its id and no tx hash."""
        ...

    def commit_tx(self, batch_id: int) -> str | None:
        """The hash of the transaction that committed ``batch_id``, if its event can be found."""
        ...


class ChainCreditAnchor:
    """Commits from the CREDIT_BUREAU member's own key (local signing, raw sends)."""

    def __init__(self, registry: Contract, sender: Sender, *, from_block: int = 0) -> None:
        self.registry = registry
        self.sender = sender
        self.from_block = from_block

    def committed_batch(self, root: str) -> int:
        try:
            return int(self.registry.functions.batchOfRoot(from_hex32(root)).call())
        except (ConnectionError, OSError) as exc:
            raise ChainUnavailableError(f"cannot read CreditRegistry: {exc}") from None

    def commit(self, root: str, record_count: int, as_of: dt.date) -> tuple[int, str | None]:
        call = self.registry.functions.commitBatch(from_hex32(root), record_count, as_of_seconds(as_of))
        try:
            receipt = self.sender.transact(call)
        except ContractCustomError as exc:
            if exc.name == DUPLICATE_ROOT:  # another process finished this batch first
                return int(exc.args[1]), None
            raise
        except (ConnectionError, OSError) as exc:
            raise ChainUnavailableError(f"cannot send commitBatch: {exc}") from None
        (event,) = self.registry.events.CreditBatchCommitted().process_receipt(receipt)
        return int(event["args"]["batchId"]), to_hex32(bytes(receipt["transactionHash"]))

    def commit_tx(self, batch_id: int) -> str | None:
        logs = self.registry.events.CreditBatchCommitted().get_logs(
            argument_filters={"batchId": batch_id}, from_block=self.from_block
        )
        return to_hex32(bytes(logs[0]["transactionHash"])) if logs else None
