"""Turn revert data into typed Python errors that name the contract's custom error.

The selector table is built from every ABI we know: all artifacts of ``compile_contracts()``
(their ABIs already include the errors inherited from OpenZeppelin and the shared guard) plus
any ABI registered at run time (a contract the caller deployed or called). Reverts are caught
in two places:

* before sending, when ``eth_estimateGas`` / ``eth_call`` fail: web3 hands over the revert data;
* after mining, when a receipt has status 0: the transaction is replayed with ``eth_call`` on
  the state it ran against, which reproduces the revert data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import collapse_if_tuple, function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.errors import (
    CompilationError,
    ContractCustomError,
    ContractPanicError,
    ContractReasonError,
    ContractRevertError,
    TransactionFailedError,
    UndecodedRevertError,
)

ERROR_STRING_SELECTOR = function_signature_to_4byte_selector("Error(string)")
PANIC_SELECTOR = function_signature_to_4byte_selector("Panic(uint256)")


@dataclass(frozen=True)
class ErrorDefinition:
    """One ABI error: what its selector means and how to decode its arguments."""

    name: str
    signature: str
    inputs: tuple[dict, ...]

    @classmethod
    def from_abi_entry(cls, entry: dict) -> ErrorDefinition:
        inputs = tuple(entry.get("inputs", ()))
        signature = f"{entry['name']}({','.join(collapse_if_tuple(i) for i in inputs)})"
        return cls(entry["name"], signature, inputs)

    @property
    def selector(self) -> bytes:
        return function_signature_to_4byte_selector(self.signature)

    def decode(self, data: bytes) -> ContractCustomError:
        values = abi_decode([collapse_if_tuple(i) for i in self.inputs], data[4:])
        args = tuple(_normalise(i, v) for i, v in zip(self.inputs, values))
        names = tuple(i.get("name", "") for i in self.inputs)
        return ContractCustomError(self.name, self.signature, args, data, names)


def _normalise(abi_input: dict, value: Any) -> Any:
    """Checksum addresses (eth-abi yields lowercase), recursing into arrays and tuples."""
    abi_type = abi_input["type"]
    if abi_type.endswith("]"):
        element = {**abi_input, "type": abi_type[: abi_type.rindex("[")]}
        return tuple(_normalise(element, item) for item in value)
    if abi_type == "tuple":
        return tuple(_normalise(c, v) for c, v in zip(abi_input["components"], value))
    if abi_type == "address":
        return to_checksum_address(value)
    return value


class ErrorTable:
    """Selector -> error definition, over any number of ABIs; thread-safe to extend."""

    def __init__(
        self,
        abis: Iterable[list[dict]] = (),
        fallback: Callable[[], Iterable[list[dict]]] | None = None,
    ) -> None:
        self._definitions: dict[bytes, ErrorDefinition] = {}
        self._registered: dict[int, list] = {}
        self._lock = threading.Lock()
        self._fallback = fallback
        self.fallback_problem: str | None = None
        for abi in abis:
            self.register(abi)

    @classmethod
    def from_artifacts(cls, artifacts: Iterable[Any]) -> ErrorTable:
        """A table over ``ContractArtifact``s (anything with an ``abi``)."""
        return cls(artifact.abi for artifact in artifacts)

    def register(self, abi: Iterable[dict]) -> None:
        """Learn every error of ``abi``. Idempotent; the first definition of a selector stays."""
        if isinstance(abi, list):
            # Senders register the ABI of every call they make: skip ones already seen. The
            # list is kept referenced, so its id cannot be reused by another list.
            if id(abi) in self._registered:
                return
            self._registered[id(abi)] = abi
        for entry in abi:
            if entry.get("type") != "error":
                continue
            definition = ErrorDefinition.from_abi_entry(entry)
            selector = definition.selector
            if selector not in self._definitions:
                with self._lock:
                    self._definitions.setdefault(selector, definition)

    def lookup(self, selector: bytes) -> ErrorDefinition | None:
        definition = self._definitions.get(selector)
        if definition is None and self._fallback is not None:
            self._load_fallback()
            definition = self._definitions.get(selector)
        return definition

    def names(self) -> set[str]:
        self._load_fallback()
        return {d.name for d in self._definitions.values()}

    def _load_fallback(self) -> None:
        with self._lock:
            loader, self._fallback = self._fallback, None
        if loader is None:
            return
        try:
            abis = list(loader())
        except CompilationError as exc:
            # Decoding must still say *something* useful; the raw data stays on the error.
            self.fallback_problem = f"platform ABIs unavailable ({exc})"
            return
        for abi in abis:
            self.register(abi)

    def decode(self, data: bytes | str) -> ContractRevertError:
        """The typed error for revert ``data`` (0x-hex or bytes)."""
        raw = _to_bytes(data)
        selector = raw[:4]
        try:
            if selector == ERROR_STRING_SELECTOR:
                (reason,) = abi_decode(["string"], raw[4:])
                return ContractReasonError("Error", "Error(string)", (reason,), raw, ("reason",))
            if selector == PANIC_SELECTOR:
                (code,) = abi_decode(["uint256"], raw[4:])
                return ContractPanicError("Panic", "Panic(uint256)", (code,), raw, ("code",))
            definition = self.lookup(selector) if len(raw) >= 4 else None
            if definition is not None:
                return definition.decode(raw)
        except DecodingError:
            pass  # malformed arguments: report the raw data rather than guess
        error = UndecodedRevertError("undecoded revert", raw)
        if self.fallback_problem:
            error.add_note(self.fallback_problem)
        return error


def _platform_abis() -> list[list[dict]]:
    from chain.compile import compile_contracts  # deferred: compiling is slow the first time

    return [artifact.abi for artifact in compile_contracts().values()]


_default_table: ErrorTable | None = None
_default_lock = threading.Lock()


def default_error_table() -> ErrorTable:
    """The process-wide table: the platform's artifacts (loaded on first miss) plus registrations."""
    global _default_table
    with _default_lock:
        if _default_table is None:
            _default_table = ErrorTable(fallback=_platform_abis)
        return _default_table


# ---------------------------------------------------------------- revert data from web3


def revert_data_of(exc: BaseException) -> bytes | None:
    """The revert data carried by a web3 exception, or None if it carries none."""
    if isinstance(exc, ContractLogicError):
        return _data_field(exc.data)
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        error = exc.rpc_response.get("error")
        if isinstance(error, dict):
            return _data_field(error.get("data"))
    return None


def _data_field(data: Any) -> bytes | None:
    # Nodes disagree: a hex string, "Reverted 0x..." (old Ganache), or {"data": "0x..."}.
    if isinstance(data, dict):
        return _data_field(data.get("data"))
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        text = data.removeprefix("Reverted ").strip()
        if text.startswith("0x"):
            try:
                return bytes.fromhex(text[2:])
            except ValueError:
                return None
    return None


def decode_exception(exc: BaseException, table: ErrorTable | None = None) -> ContractRevertError | None:
    """The typed revert behind a web3 exception, or None if ``exc`` is not a revert."""
    table = table or default_error_table()
    data = revert_data_of(exc)
    if data is not None:
        return table.decode(data)
    if isinstance(exc, ContractLogicError):  # a revert the node reported without data
        error = UndecodedRevertError(str(exc.message or "execution reverted"), b"")
        return error
    return None


def explain_failed_transaction(
    w3: Web3, receipt: Any, table: ErrorTable | None = None
) -> ContractRevertError | TransactionFailedError:
    """Why a mined transaction has status 0, by replaying it with ``eth_call``.

    The replay runs on the state before the block when the transaction opened it (always so
    under automine), otherwise on the block's own state: that includes the transactions before
    it in the block, which it may depend on (e.g. an approval followed by an execution).
    """
    tx_hash = Web3.to_hex(receipt["transactionHash"])
    tx = w3.eth.get_transaction(tx_hash)
    call: dict[str, Any] = {"from": tx["from"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
    if tx.get("to"):
        call["to"] = tx["to"]
    block = receipt["blockNumber"] - 1 if receipt["transactionIndex"] == 0 else receipt["blockNumber"]
    decoded: ContractRevertError | None = None
    try:
        w3.eth.call(call, block)
    except (ContractLogicError, Web3RPCError) as exc:
        decoded = decode_exception(exc, table)
    if decoded is not None and decoded.data:
        decoded.tx_hash, decoded.receipt = tx_hash, receipt
        return decoded
    if receipt["gasUsed"] >= tx["gas"]:  # no revert data and every unit of gas burnt
        return TransactionFailedError(f"transaction {tx_hash} ran out of gas ({tx['gas']})", tx_hash, receipt)
    if decoded is not None:
        decoded.tx_hash, decoded.receipt = tx_hash, receipt
        return decoded
    return TransactionFailedError(
        f"transaction {tx_hash} failed, but replaying it did not revert (state moved on)", tx_hash, receipt
    )


def _to_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return bytes.fromhex(data.removeprefix("0x"))
    return bytes(data)
