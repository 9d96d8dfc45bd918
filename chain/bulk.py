"""Bulk sending: many independent calls at a fixed gas limit, as fast as the node takes them.

Three costs dominate when sending thousands of transactions from Python, and each is cut:

* signing (~1 ms each): one thread relays chunk k to the node while chunk k+1 is signed;
* one HTTP round trip per send: a chunk goes as one JSON-RPC batch where that is safe, i.e.
  on an HTTP node that queues future nonces (Besu, geth, Hardhat with interval mining);
  elsewhere (Hardhat automine, the embedded chain) the sends go one by one in nonce order;
* receipt formatting (~1 ms each in web3): success is read from the raw JSON receipts, and
  only a failure is fetched in full and decoded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.backends import queues_future_nonces, speaks_http
from chain.errors import TransactionRejectedError
from chain.sender import RECEIPT_BATCH_SIZE, Call, Sender


@dataclass(frozen=True)
class Confirmation:
    """A mined, successful transaction of a bulk send."""

    tx_hash: str
    block_number: int
    gas_used: int


def send_bulk(
    sender: Sender, calls: Sequence[Call], *, gas: int, value: int = 0, chunk_size: int = 250
) -> list[Confirmation]:
    """Send ``calls`` from ``sender`` and confirm every one mined with status 1.

    Raises the first failure, decoded. If the node refuses a send, no further chunk is
    relayed (transactions of the refused chunk that the node did accept still get mined).
    """
    if not calls:
        return []
    fees = sender.fee_fields()
    unsigned = [sender.prepare(call, value=value, gas=gas, fees=fees) for call in calls]
    as_batch = speaks_http(sender.w3) and queues_future_nonces(sender.w3)
    hashes: list[str] = []
    refused = threading.Event()
    # Nonces are reserved for the whole send phase: another thread's send must not cut in.
    with sender.reserve_nonces(len(unsigned)) as first_nonce, ThreadPoolExecutor(1) as relay:
        relayed = []
        for start in range(0, len(unsigned), chunk_size):
            if refused.is_set():
                break
            signed = [
                sender.account.sign_transaction({**tx, "nonce": first_nonce + start + i})
                for i, tx in enumerate(unsigned[start : start + chunk_size])
            ]
            hashes.extend(Web3.to_hex(s.hash) for s in signed)
            relayed.append(relay.submit(_relay, sender, signed, as_batch, refused))
        for outcome in relayed:
            outcome.result()  # the first refusal propagates and resyncs the nonces
    return _confirm(sender, hashes)


def _relay(sender: Sender, signed: list[Any], as_batch: bool, refused: threading.Event) -> None:
    if refused.is_set():
        return
    try:
        if as_batch:
            _relay_batch(sender, signed)
            return
        for transaction in signed:
            try:
                sender.w3.eth.send_raw_transaction(transaction.raw_transaction)
            except (Web3RPCError, ContractLogicError) as exc:
                raise sender.explain_send_error(exc, transaction.hash) from None
    except BaseException:
        refused.set()
        raise


def _relay_batch(sender: Sender, signed: list[Any]) -> None:
    requests = [("eth_sendRawTransaction", [Web3.to_hex(s.raw_transaction)]) for s in signed]
    responses = sender.w3.provider.make_batch_request(requests)
    if not isinstance(responses, list):  # the node refused the batch as a whole
        raise TransactionRejectedError(f"a batch of {len(signed)} was refused: {responses.get('error')}")
    for transaction, response in zip(signed, responses):
        if "error" in response:
            error = Web3RPCError(str(response["error"]), rpc_response=response)
            raise sender.explain_send_error(error, transaction.hash)


def _confirm(sender: Sender, hashes: list[str]) -> list[Confirmation]:
    sender.wait_for_receipt(hashes[-1])  # nonce order: the last mined means all are mined
    raw: list[dict | None] = []
    for start in range(0, len(hashes), RECEIPT_BATCH_SIZE):
        chunk = hashes[start : start + RECEIPT_BATCH_SIZE]
        if speaks_http(sender.w3):
            requests = [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in chunk]
            raw.extend(r.get("result") for r in sender.w3.provider.make_batch_request(requests))
        else:  # in-process: there are no round trips to save
            raw.extend(dict(sender.wait_for_receipt(tx_hash)) for tx_hash in chunk)
    confirmations = []
    for index, (tx_hash, receipt) in enumerate(zip(hashes, raw)):
        if receipt is None:  # a node that mines out of order after all: wait for this one
            receipt = dict(sender.wait_for_receipt(tx_hash))
        if _quantity(receipt["status"]) != 1:
            raise sender.explain_failure(sender.w3.eth.get_transaction_receipt(tx_hash), index, len(hashes))
        block, gas_used = _quantity(receipt["blockNumber"]), _quantity(receipt["gasUsed"])
        confirmations.append(Confirmation(tx_hash, block, gas_used))
    return confirmations


def _quantity(value: int | str) -> int:
    return value if isinstance(value, int) else int(value, 16)
