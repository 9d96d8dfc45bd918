#!/usr/bin/env python
"""Chain throughput: signed raw transactions per second into a Hardhat node this script runs.

Every transaction is signed locally and sent with eth_sendRawTransaction; every one is
confirmed mined with status 1 before the clock stops. The call is Counter.increment() (a
storage write and an event; tests/fixtures/contracts/Counter.sol), encoded per call. Prints
JSON lines {"bench": "chain", "metric": ..., "value": ..., "unit": ...}:

- tx_per_s_sequential: Sender.transact one at a time (estimate gas, send, wait), automine;
- tx_per_s_pipelined: Sender.send_many (gas estimated per call, sends in nonce order without
  waiting, then the receipts in JSON-RPC batches), automine;
- tx_per_s_bulk_automine: Sender.send_bulk (fixed gas, signing overlapped with sending), automine;
- tx_per_s_fast: Sender.send_bulk with interval mining, so sends go out as JSON-RPC batches
  and a block holds hundreds of transactions (the consortium QBFT setting: blocks by time);
- sign_per_s: local signing alone (eth-keys on coincurve).

Usage: scripts/bench_chain.py [--transactions N] [--interval-ms MS]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from eth_keys.backends import get_backend  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402

from chain.backends import connect  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.node import HardhatNode, free_port  # noqa: E402
from chain.sender import Sender  # noqa: E402

GAS = 100_000  # Counter.increment needs ~47k; fixed gas is what makes bulk sending possible
INCREMENT_SELECTOR = "0xd09de08a"  # increment()


def emit(metric: str, value: float, unit: str) -> None:
    line = {"bench": "chain", "metric": metric, "value": round(value, 1), "unit": unit}
    print(json.dumps(line), flush=True)


def rate(count: int, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def measure(w3: Web3, counter: Contract, sender: Sender, n_bulk: int, interval_ms: int) -> int:
    """Emits the transaction rates; returns how many increments were sent."""
    increment = counter.functions.increment
    n_sequential, n_pipelined = max(50, n_bulk // 10), n_bulk // 2

    def sequential() -> None:
        for _ in range(n_sequential):
            sender.transact(increment())

    emit("tx_per_s_sequential", rate(n_sequential, sequential), "tx/s")
    pipelined = [increment()] * n_pipelined
    emit("tx_per_s_pipelined", rate(n_pipelined, lambda: sender.send_many(pipelined)), "tx/s")
    bulk = [increment()] * n_bulk
    emit("tx_per_s_bulk_automine", rate(n_bulk, lambda: sender.send_bulk(bulk, gas=GAS)), "tx/s")

    w3.provider.make_request("evm_setAutomine", [False])
    w3.provider.make_request("evm_setIntervalMining", [interval_ms])
    sender.send_bulk([increment()] * 100, gas=GAS)  # settle into interval mining
    emit("tx_per_s_fast", rate(n_bulk, lambda: sender.send_bulk(bulk, gas=GAS)), "tx/s")
    return n_sequential + n_pipelined + n_bulk + 100 + n_bulk


def signing_rate(to: str) -> float:
    signer = Account.create()
    unsigned = {"to": to, "data": INCREMENT_SELECTOR, "gas": GAS, "gasPrice": 0, "chainId": 31337}
    return rate(1000, lambda: [signer.sign_transaction({**unsigned, "nonce": i}) for i in range(1000)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000, help="per bulk measurement")
    parser.add_argument("--interval-ms", type=int, default=100, help="block interval for tx_per_s_fast")
    options = parser.parse_args()

    backend = type(get_backend()).__name__
    if "CoinCurve" not in backend:
        print(f"warning: eth-keys signs with {backend}, not coincurve: ~8x slower", file=sys.stderr)

    artifact = compile_contracts(ROOT / "tests" / "fixtures" / "contracts")["Counter"]
    with tempfile.TemporaryDirectory(prefix="bench-chain-") as var_dir:
        node = HardhatNode(free_port(), var_dir=Path(var_dir), interval_ms=0)  # automine first
        node.start()
        try:
            w3 = connect(node.url)
            sender = Sender(w3, Account.create(), name="bench")
            counter = w3.eth.contract(address=sender.deploy(artifact, 10**9), abi=artifact.abi)
            sender.send_many([counter.functions.increment()] * 20)  # warm up the node and HTTP session
            sent = 20 + measure(w3, counter, sender, options.transactions, options.interval_ms)
            counted = counter.functions.value().call()
            if counted != sent:
                print(f"error: {counted} increments counted, {sent} sent", file=sys.stderr)
                return 1
            emit("sign_per_s", signing_rate(counter.address), "sig/s")
        finally:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
