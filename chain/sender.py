"""Sign locally, send raw: one member's transactions to one chain.

A :class:`Sender` pairs a local account (which signs) with a Web3 (which only relays bytes):
it uses ``eth_sendRawTransaction`` exclusively, so the node never needs a key, as on a Besu or
GoQuorum QBFT network. It owns its account's nonces (thread-safe; resynced from the node's
``pending`` count when the node disagrees), prices gas for zero-fee consortium chains and for
EIP-1559 ones, estimates gas with a margin, waits for receipts and turns every revert into the
contract's own typed error (see :mod:`chain.revert`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxReceipt

from chain.backends import fee_fields, speaks_http
from chain.errors import ChainError, ReceiptTimeoutError, TransactionRejectedError
from chain.revert import ErrorTable, decode_exception, default_error_table, explain_failed_transaction

if TYPE_CHECKING:
    from chain.bulk import Confirmation

DEFAULT_GAS_MARGIN = 1.25
RECEIPT_BATCH_SIZE = 500
Call = ContractFunction | dict  # a bound contract function, or {"to", "data", "value"?}


def _is_nonce_error(exc: Exception) -> bool:
    # "nonce too low/high", "invalid transaction nonce"; "underpriced": a pending transaction
    # from elsewhere holds this nonce.
    message = str(exc).lower()
    return "nonce" in message or "underpriced" in message


class Sender:
    """One member's local account bound to one Web3."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        name: str | None = None,
        errors: ErrorTable | None = None,
        gas_margin: float = DEFAULT_GAS_MARGIN,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.02,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.name = name or account.address
        self.errors = errors or default_error_table()
        self.gas_margin = gas_margin
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self._nonce_lock = threading.Lock()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None
        self._zero_fees: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"Sender({self.name!r}, {self.address})"

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        return self._chain_id

    # ------------------------------------------------------------ public API

    def transact(self, call: Call, *, value: int = 0, gas: int | None = None) -> TxReceipt:
        """Send one call and wait for its receipt; raises the decoded error if it reverts."""
        (receipt,) = self.send_many([call], value=value, gas=gas)
        return receipt

    def deploy(self, artifact: Any, *args: Any) -> str:
        """Deploy ``artifact`` (anything with ``abi`` and ``bytecode``); returns its address."""
        return self.deploy_with_receipt(artifact, *args)[0]

    def deploy_with_receipt(
        self, artifact: Any, *args: Any, gas: int | None = None
    ) -> tuple[str, TxReceipt]:
        """Deploy ``artifact``; returns its address and the deployment receipt."""
        self.errors.register(artifact.abi)  # its constructor's reverts must decode too
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        constructor = factory.constructor(*args)
        receipt = self.transact({"data": constructor.data_in_transaction}, gas=gas)
        return Web3.to_checksum_address(receipt["contractAddress"]), receipt

    def send_many(
        self, calls: Sequence[Call], *, value: int = 0, gas: int | None = None
    ) -> list[TxReceipt]:
        """Send ``calls`` in nonce order without waiting in between, then wait for every receipt.

        Safe under Hardhat automine (which refuses nonce gaps) because sends leave in nonce
        order. Gas is estimated per call against the pending state, after the previous call was
        sent, so a call may depend on an earlier one of the same batch; pass ``gas`` to skip
        estimation. Raises the first failure (decoded), after waiting for all that were sent.
        """
        if not calls:
            return []
        fees = self.fee_fields()
        hashes: list[HexBytes] = []
        try:
            for call in calls:
                hashes.append(self._send(self.prepare(call, value=value, gas=gas, fees=fees)))
        except ChainError as refused:  # refused before sending: settle the ones already sent
            if hashes:
                self.wait_for_receipts(hashes)
                sent = len(hashes)
                refused.add_note(f"call {sent + 1} of {len(calls)} was refused; {sent} before it were sent")
            raise
        receipts = self.wait_for_receipts(hashes)
        for index, receipt in enumerate(receipts):
            if receipt["status"] != 1:
                raise self.explain_failure(receipt, index, len(calls))
        return receipts

    def send_bulk(
        self, calls: Sequence[Call], *, gas: int, value: int = 0, chunk_size: int = 250
    ) -> list[Confirmation]:
        """Many independent calls at a fixed ``gas`` limit, as fast as the node takes them.

        See :func:`chain.bulk.send_bulk`: signing overlaps sending, JSON-RPC batches where the
        node allows, success read from raw receipts. Returns one confirmation per call.
        """
        from chain.bulk import send_bulk  # the bulk path builds on this class

        return send_bulk(self, calls, gas=gas, value=value, chunk_size=chunk_size)

    def wait_for_receipts(self, tx_hashes: Sequence[HexBytes | str]) -> list[TxReceipt]:
        """Receipts of ``tx_hashes``, polling until all are mined or ``receipt_timeout`` passes.

        Over HTTP, once the last hash is mined the rest are fetched in JSON-RPC batches: one
        account's transactions are mined in nonce order, so the others are mined too.
        """
        deadline = time.monotonic() + self.receipt_timeout
        if len(tx_hashes) > 1 and speaks_http(self.w3):
            self.wait_for_receipt(tx_hashes[-1], deadline)
            receipts: list[TxReceipt] = []
            for start in range(0, len(tx_hashes), RECEIPT_BATCH_SIZE):
                chunk = tx_hashes[start : start + RECEIPT_BATCH_SIZE]
                try:
                    with self.w3.batch_requests() as batch:
                        for tx_hash in chunk:
                            batch.add(self.w3.eth.get_transaction_receipt(tx_hash))
                        receipts.extend(batch.execute())
                except TransactionNotFound:  # hashes of several accounts: wait one by one
                    receipts.extend(self.wait_for_receipt(tx_hash, deadline) for tx_hash in chunk)
            return receipts
        return [self.wait_for_receipt(tx_hash, deadline) for tx_hash in tx_hashes]

    def wait_for_receipt(self, tx_hash: HexBytes | str, deadline: float | None = None) -> TxReceipt:
        """The receipt of ``tx_hash``, polling until it is mined or the deadline passes."""
        deadline = deadline if deadline is not None else time.monotonic() + self.receipt_timeout
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                pass
            if time.monotonic() > deadline:
                shown = tx_hash if isinstance(tx_hash, str) else Web3.to_hex(tx_hash)
                message = f"no receipt for {shown} after {self.receipt_timeout} s"
                raise ReceiptTimeoutError(message, shown)
            time.sleep(self.poll_interval)

    @contextmanager
    def reserve_nonces(self, count: int) -> Iterator[int]:
        """Hold the nonce lock and reserve ``count`` consecutive nonces; yields the first.

        Nobody else sends from this sender meanwhile. If the block raises, the nonces are
        given back by resyncing from the node, which knows which of them were used.
        """
        with self._nonce_lock:
            if self._next_nonce is None:
                self._next_nonce = self._pending_nonce()
            first = self._next_nonce
            try:
                yield first
            except BaseException:
                self._next_nonce = None
                raise
            self._next_nonce = first + count

    def resync_nonce(self) -> None:
        """Forget the local nonce; the next send reads the node's pending count."""
        with self._nonce_lock:
            self._next_nonce = None

    # ------------------------------------------------------------ building blocks (chain.bulk too)

    def fee_fields(self) -> dict[str, int]:
        """Fee fields for the next transaction (see :func:`chain.backends.fee_fields`).

        A zero gas price is remembered: on a consortium network it is configuration, not a
        market price. It is asked again after the node refuses a transaction.
        """
        if self._zero_fees is not None:
            return dict(self._zero_fees)
        fees = fee_fields(self.w3)
        if fees == {"gasPrice": 0}:
            self._zero_fees = fees
        return dict(fees)

    def prepare(
        self, call: Call, *, value: int = 0, gas: int | None = None, fees: dict[str, int] | None = None
    ) -> dict:
        """The unsigned transaction for ``call`` (no nonce yet); estimates gas unless given."""
        fees = fees if fees is not None else self.fee_fields()
        if isinstance(call, dict):
            tx = {"value": value, **call}
        else:
            self.errors.register(call.contract_abi)
            tx = {"to": call.address, "data": call._encode_transaction_data(), "value": value}
        tx.update(fees)
        tx["chainId"] = self.chain_id
        tx["gas"] = gas if gas is not None else self._estimate(tx)
        return tx

    def explain_failure(self, receipt: TxReceipt, index: int = 0, total: int = 1) -> Exception:
        """The decoded error of a mined failure (``index`` of ``total`` calls, for the note)."""
        error = explain_failed_transaction(self.w3, receipt, self.errors)
        if total > 1:
            error.add_note(f"call {index + 1} of {total} sent by {self.name}")
        return error

    def explain_send_error(self, exc: Exception, tx_hash: bytes) -> Exception:
        """The error to raise when the node answered a send with an error.

        Hardhat (automine) executes on send and reports a revert as the send's error, though
        the transaction is mined: then the receipt is attached as for any mined failure.
        """
        decoded = decode_exception(exc, self.errors)
        if decoded is None:
            self._zero_fees = None  # perhaps the network started to charge for gas
            return TransactionRejectedError(f"node refused a transaction of {self.name}: {exc}")
        receipt = self._receipt_if_mined(tx_hash)
        if receipt is not None and not decoded.data:  # e.g. out of gas: the replay knows better
            return explain_failed_transaction(self.w3, receipt, self.errors)
        decoded.tx_hash, decoded.receipt = Web3.to_hex(tx_hash), receipt
        return decoded

    # ------------------------------------------------------------ internals

    def _estimate(self, tx: dict) -> int:
        request = {key: value for key, value in tx.items() if key not in ("chainId", "gas")}
        request["from"] = self.address
        try:
            estimate = self.w3.eth.estimate_gas(request, "pending")
        except (ContractLogicError, Web3RPCError) as exc:
            decoded = decode_exception(exc, self.errors)
            if decoded is None:
                raise TransactionRejectedError(f"gas estimation failed for {self.name}: {exc}") from exc
            raise decoded from None
        return int(estimate * self.gas_margin)

    def _pending_nonce(self) -> int:
        return self.w3.eth.get_transaction_count(self.address, "pending")

    def _send(self, tx: dict) -> HexBytes:
        with self._nonce_lock:
            for attempt in (1, 2):
                if self._next_nonce is None:
                    self._next_nonce = self._pending_nonce()
                signed = self.account.sign_transaction({**tx, "nonce": self._next_nonce})
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except (Web3RPCError, ContractLogicError) as exc:
                    if "already known" in str(exc).lower():  # this very transaction is in the pool
                        self._next_nonce += 1
                        return HexBytes(signed.hash)
                    # Whether the nonce was used is unknown (Hardhat mines reverting sends): ask.
                    self._next_nonce = None
                    if attempt == 1 and _is_nonce_error(exc):
                        continue
                    raise self.explain_send_error(exc, signed.hash) from None
                self._next_nonce += 1
                return tx_hash
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _receipt_if_mined(self, tx_hash: bytes) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
