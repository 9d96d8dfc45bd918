"""The embedded chain: eth-tester + py-evm in-process, made to behave like a consortium node.

Its genesis has a base fee of 0 and a 1e9 gas limit (as ``hardhat.config.js``), so members need
no ether. Reverts come back as JSON-RPC errors carrying the raw revert data, exactly as from a
node, so the revert decoder has one input format. Two eth-tester costs are cut: receipts are
found through py-evm's hash index, and gas estimation takes two EVM runs, not ~30.
"""

from __future__ import annotations

import threading
from typing import Any

from eth.estimators.gas import binary_gas_search_1000_tolerance
from eth.exceptions import Revert as EVMRevert
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _execute_and_revert_transaction, get_default_genesis_params
from eth_tester.backends.pyevm.serializers import serialize_transaction, serialize_transaction_receipt
from eth_tester.exceptions import TransactionFailed, TransactionNotFound
from eth_utils import ValidationError
from web3 import EthereumTesterProvider
from web3.exceptions import ContractLogicError

EMBEDDED_GAS_LIMIT = 1_000_000_000  # same as hardhat.config.js: blocks never fill, base fee stays 0


class _EmbeddedBackend(PyEVMBackend):
    """py-evm with two eth-tester shortcomings fixed.

    ``call`` keeps the raw revert data (eth-tester turns it into a display string), and
    transactions are found through py-evm's hash index instead of a scan of every block, which
    made each receipt lookup cost O(chain length).
    """

    def get_transaction_by_hash(self, transaction_hash: bytes) -> dict:
        block, transaction, index = self._locate(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        return serialize_transaction(block, transaction, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> dict:
        block, transaction, index = self._locate(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        receipts = block.get_receipts(self.chain.chaindb)
        vm = self.chain.get_vm()
        return serialize_transaction_receipt(block, receipts, transaction, index, is_pending, vm)

    def estimate_gas(self, transaction: dict, block_number: Any = "latest") -> int:
        # Set per call: a snapshot revert to genesis replaces the chain object.
        self.chain.gas_estimator = _quick_gas_estimate
        return super().estimate_gas(transaction, block_number)

    def _locate(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        pending = self.chain.get_block()
        for index, transaction in enumerate(pending.transactions):
            if transaction.hash == transaction_hash:
                return pending, transaction, index
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            number, index = -1, -1
        if number >= 0:
            block = self.chain.get_canonical_block_by_number(number)
            # After a snapshot revert the index may still name a block that is no longer canonical.
            if index < len(block.transactions) and block.transactions[index].hash == transaction_hash:
                return block, block.transactions[index], index
        raise TransactionNotFound(f"no transaction with hash 0x{transaction_hash.hex()}")

    def call(self, transaction: dict, block_number: Any = "latest") -> bytes:
        transaction = dict(transaction)
        transaction.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(transaction, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            raise TransactionFailed(_revert_payload(computation.error))
        return computation.output


def _quick_gas_estimate(state: Any, transaction: Any) -> int:
    """A gas limit that suffices, found in two runs instead of py-evm's ~30-step binary search.

    One run at the block gas limit measures the gas used; used x 64/63 (the share a call keeps
    back for its caller) plus a stipend is then confirmed by a second run. Only if that fails
    does the exact binary search run. The result may exceed the minimum by ~2%, which the
    sender's own margin dwarfs anyway.
    """
    computation = _run_discarded(state, _free(transaction, state.gas_limit))
    if computation.is_error:
        raise computation.error
    candidate = transaction.intrinsic_gas + computation.get_gas_used() * 64 // 63 + 2_300
    if candidate < state.gas_limit:
        if not _run_discarded(state, _free(transaction, candidate)).is_error:
            return candidate
    return binary_gas_search_1000_tolerance(state, _free(transaction, transaction.gas))


def _free(transaction: Any, gas: int) -> SpoofTransaction:
    # Estimation measures gas, not money: like geth, do not require a balance for the fees.
    no_fees = {"gas_price": 0, "max_fee_per_gas": 0, "max_priority_fee_per_gas": 0}
    return SpoofTransaction(transaction, gas=gas, **no_fees)


def _run_discarded(state: Any, transaction: Any) -> Any:
    snapshot = state.snapshot()
    try:
        return state.apply_transaction(transaction)
    finally:
        state.revert(snapshot)


def _revert_payload(error: BaseException) -> bytes | BaseException:
    """The revert data of a py-evm error, or the error itself when it is not a revert."""
    if isinstance(error, EVMRevert):
        return error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
    return error


def _genesis(base_fee_per_gas: int) -> dict:
    genesis = get_default_genesis_params()
    genesis["gas_limit"] = EMBEDDED_GAS_LIMIT
    # Not among eth-tester's overridable fields, but py-evm honours it.
    genesis["base_fee_per_gas"] = base_fee_per_gas
    return genesis


class EmbeddedProvider(EthereumTesterProvider):
    """An in-process chain that answers like a JSON-RPC node, reverts included.

    Zero-fee by default; ``base_fee_per_gas`` > 0 gives an EIP-1559 chain where accounts must
    be funded (for testing the fee-paying path). Requests are serialised by a lock, because
    py-evm is not thread-safe and senders may be used from several threads.
    """

    def __init__(self, base_fee_per_gas: int = 0) -> None:
        genesis = _genesis(base_fee_per_gas)
        super().__init__(EthereumTester(_EmbeddedBackend(genesis_parameters=genesis)))
        self.zero_fee = base_fee_per_gas == 0
        self._lock = threading.RLock()

    def make_request(self, method: str, params: Any) -> dict:
        with self._lock:
            return self._answer(method, params)

    def _answer(self, method: str, params: Any) -> dict:
        request_id = repr(self._current_request_id)
        self._current_request_id += 1
        if method in ("eth_call", "eth_estimateGas"):
            # Automining: the pending state is the latest one (eth-tester refuses "pending").
            block = params[1] if len(params) > 1 and params[1] != "pending" else "latest"
            transaction = _with_zero_fee(params[0]) if self.zero_fee else params[0]
            params = [transaction, block]
        namespace, _, endpoint = method.partition("_")
        delegator = self.api_endpoints.get(namespace, {}).get(endpoint)
        if delegator is None:
            return _error_response(request_id, -32601, f"Unknown RPC Endpoint: {method}")
        try:
            result = delegator(self.ethereum_tester, params)
        except NotImplementedError:
            return _error_response(request_id, -32601, f"RPC Endpoint has not been implemented: {method}")
        except TransactionFailed as exc:
            payload = _unwrap_failure(exc)
            if isinstance(payload, bytes):
                return _error_response(request_id, 3, "execution reverted", "0x" + payload.hex())
            return _error_response(request_id, -32000, f"execution failed: {payload}")
        except ContractLogicError as exc:  # web3's eth-tester glue already decoded a Panic
            return _error_response(request_id, 3, "execution reverted", exc.data)
        except ValidationError as exc:  # bad nonce, fee, signature: a node answers with an error
            return _error_response(request_id, -32000, str(exc))
        return {"id": request_id, "jsonrpc": "2.0", "result": result}


def _with_zero_fee(transaction: dict) -> dict:
    # eth-tester prices calls at 1 gwei by default, which zero-balance members cannot afford;
    # a zero-fee node prices them at 0.
    fee_keys = ("gas_price", "max_fee_per_gas", "max_priority_fee_per_gas")
    if any(key in transaction for key in fee_keys):
        return transaction
    return {**transaction, "gas_price": 0}


def _unwrap_failure(exc: BaseException) -> bytes | BaseException:
    payload: Any = exc
    while isinstance(payload, BaseException):
        if isinstance(payload, EVMRevert):
            return _revert_payload(payload)
        if not payload.args:
            return payload
        inner = payload.args[0]
        if not isinstance(inner, BaseException):
            return inner if isinstance(inner, bytes) else payload
        payload = inner
    return payload


def _error_response(request_id: str, code: int, message: str, data: str | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"id": request_id, "jsonrpc": "2.0", "error": error}
