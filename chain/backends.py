"""One code path, three chains, chosen by a URL, and what each of them can do.

* ``embedded`` / ``embedded://``: an in-process EVM (see :mod:`chain.embedded`), zero-fee like
  a consortium network, answering like a JSON-RPC node.
* ``http://`` / ``https://``: any JSON-RPC node: the local Hardhat node or a Besu/GoQuorum QBFT
  network of the consortium's validators.

Besides connecting, this module hides what differs per backend: gas pricing, funding an
account, snapshots and time travel (the last two for tests and local rehearsal only).
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any

from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from chain.embedded import EmbeddedProvider
from chain.errors import BackendCapabilityError, UnsupportedBackendError

HTTP_TIMEOUT_SECONDS = 60
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei, when the node cannot suggest one
# eth-tester's first genesis account (private key 0x..01), holding a million ether.
_EMBEDDED_FAUCET = Account.from_key((1).to_bytes(32, "big"))


class BackendKind(str, Enum):
    EMBEDDED = "embedded"
    HARDHAT = "hardhat"
    RPC = "rpc"


def connect(url: str = "embedded") -> Web3:
    """A Web3 for ``url``: ``embedded`` for a fresh in-process chain, or an http(s) JSON-RPC URL.

    ``embedded?base_fee=N`` makes the in-process chain charge EIP-1559 fees (to rehearse a
    fee-paying network); by default it is zero-fee like the consortium's.
    """
    lowered = url.strip().lower()
    if lowered.startswith("embedded"):
        rest = lowered.removeprefix("embedded").removeprefix("://")
        if rest and not rest.startswith("?"):
            raise UnsupportedBackendError(f"unsupported chain URL {url!r}: 'embedded' takes no path")
        query = rest.removeprefix("?")
        options = dict(part.partition("=")[::2] for part in query.split("&") if part)
        unknown = set(options) - {"base_fee"}
        if unknown:
            raise UnsupportedBackendError(f"unknown embedded chain option(s) {sorted(unknown)} in {url!r}")
        try:
            base_fee = int(options.get("base_fee", 0))
        except ValueError:
            raise UnsupportedBackendError(f"base_fee must be an integer number of wei in {url!r}") from None
        return Web3(EmbeddedProvider(base_fee_per_gas=base_fee))
    if lowered.startswith(("http://", "https://")):
        return Web3(HTTPProvider(url, request_kwargs={"timeout": HTTP_TIMEOUT_SECONDS}))
    raise UnsupportedBackendError(
        f"unsupported chain URL {url!r}: use 'embedded' or an http(s):// JSON-RPC URL"
    )


def backend_kind(w3: Web3) -> BackendKind:
    """Which kind of chain ``w3`` talks to (Hardhat is recognised by its client version)."""
    if isinstance(w3.provider, EmbeddedProvider):
        return BackendKind.EMBEDDED
    cached = getattr(w3, "_abs_backend_kind", None)
    if cached is None:
        client = str(w3.client_version).lower()
        cached = BackendKind.HARDHAT if "hardhat" in client else BackendKind.RPC
        w3._abs_backend_kind = cached  # the node behind a Web3 never changes kind
    return cached


def is_zero_fee(w3: Web3) -> bool:
    """Whether the chain charges nothing for gas (consortium networks, Hardhat as configured).

    London chains say so with a base fee of 0; pre-London ones (Besu free-gas networks) with
    ``eth_gasPrice`` = 0. The embedded chain quotes a fixed 1 gwei gas price, so the base fee
    must be asked first.
    """
    latest = w3.eth.get_block("latest")
    base_fee = latest.get("baseFeePerGas")
    if base_fee is not None:
        return base_fee == 0
    return w3.eth.gas_price == 0


def fee_fields(w3: Web3) -> dict[str, int]:
    """Fee fields for the next transaction: gasPrice 0 on zero-fee chains, else EIP-1559 or legacy."""
    latest = w3.eth.get_block("latest")
    base_fee = latest.get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": w3.eth.gas_price}  # pre-London: 0 on a free-gas network
    if base_fee == 0:
        # Legacy type-0 with price 0 is what every QBFT/IBFT client accepts on a free-gas network.
        return {"gasPrice": 0}
    try:
        tip = w3.eth.max_priority_fee
    except (Web3RPCError, ValueError):
        tip = DEFAULT_PRIORITY_FEE
    return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}


def speaks_http(w3: Web3) -> bool:
    """Whether ``w3`` talks to a node over HTTP (and so can send JSON-RPC batches)."""
    return hasattr(w3.provider, "endpoint_uri")


def queues_future_nonces(w3: Web3) -> bool:
    """Whether the node keeps a transaction whose nonce is ahead (all but Hardhat automine).

    Hardhat answers a JSON-RPC batch concurrently, so its sends may arrive out of nonce order;
    under automine a nonce gap is refused instead of queued.
    """
    if backend_kind(w3) is not BackendKind.HARDHAT:
        return True
    # Asked each time: automine can be switched at run time (evm_setAutomine).
    return not w3.provider.make_request("hardhat_getAutomine", []).get("result", True)


# ---------------------------------------------------------------- funding, snapshots, time


_faucet_lock = threading.Lock()


def fund(w3: Web3, address: str, wei: int) -> None:
    """Raise ``address``'s balance by ``wei`` where the backend allows it.

    Embedded: a transfer from eth-tester's genesis account. Hardhat: ``hardhat_setBalance``.
    Other RPC: nothing to do on a zero-fee chain; otherwise a ``BackendCapabilityError``,
    because a production network's ether comes from its operators, not from this code.
    """
    address = Web3.to_checksum_address(address)
    kind = backend_kind(w3)
    if kind is BackendKind.EMBEDDED:
        with _faucet_lock:
            nonce = w3.eth.get_transaction_count(_EMBEDDED_FAUCET.address, "pending")
            tx = {"to": address, "value": wei, "gas": 21_000, "nonce": nonce, "chainId": w3.eth.chain_id}
            tx.update(fee_fields(w3))
            tx_hash = w3.eth.send_raw_transaction(_EMBEDDED_FAUCET.sign_transaction(tx).raw_transaction)
        w3.eth.wait_for_transaction_receipt(tx_hash)
    elif kind is BackendKind.HARDHAT:
        balance = w3.eth.get_balance(address)
        _rpc(w3, "hardhat_setBalance", [address, hex(balance + wei)])
    elif not is_zero_fee(w3):
        raise BackendCapabilityError(
            f"cannot fund {address} on a fee-charging RPC network: ask the network operators for ether"
        )


def snapshot(w3: Web3) -> Any:
    """A token that :func:`revert` brings the chain back to (embedded and Hardhat only)."""
    kind = backend_kind(w3)
    if kind is BackendKind.EMBEDDED:
        return w3.provider.ethereum_tester.take_snapshot()
    if kind is BackendKind.HARDHAT:
        return _rpc(w3, "evm_snapshot", [])
    raise BackendCapabilityError("snapshots exist only on the embedded chain and Hardhat")


def revert(w3: Web3, token: Any) -> None:
    """Bring the chain back to the state of :func:`snapshot`'s ``token``."""
    kind = backend_kind(w3)
    if kind is BackendKind.EMBEDDED:
        w3.provider.ethereum_tester.revert_to_snapshot(token)
    elif kind is BackendKind.HARDHAT:
        if not _rpc(w3, "evm_revert", [token]):
            raise BackendCapabilityError(f"Hardhat refused to revert to snapshot {token}")
    else:
        raise BackendCapabilityError("snapshots exist only on the embedded chain and Hardhat")


def advance_time(w3: Web3, seconds: int) -> int:
    """Mine a block ``seconds`` after the latest one; returns its timestamp."""
    kind = backend_kind(w3)
    target = w3.eth.get_block("latest")["timestamp"] + seconds
    if kind is BackendKind.EMBEDDED:
        tester = w3.provider.ethereum_tester
        tester.time_travel(target)
        # eth-tester stamps the mined block a second early (it expects mine_blocks to add one).
        while w3.eth.get_block("latest")["timestamp"] < target:
            tester.time_travel(target + 1)
    elif kind is BackendKind.HARDHAT:
        _rpc(w3, "evm_setNextBlockTimestamp", [target])
        _rpc(w3, "evm_mine", [])
    else:
        raise BackendCapabilityError("time travel exists only on the embedded chain and Hardhat")
    return w3.eth.get_block("latest")["timestamp"]


def _rpc(w3: Web3, method: str, params: list) -> Any:
    response = w3.provider.make_request(method, params)
    if "error" in response:
        raise BackendCapabilityError(f"{method} failed: {response['error']}")
    return response.get("result")
