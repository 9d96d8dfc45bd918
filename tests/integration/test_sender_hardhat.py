"""The Sender against a real node: HTTP errors, JSON-RPC batches, automine and interval mining."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from chain.backends import connect
from chain.errors import (
    ContractCustomError,
    ContractPanicError,
    ContractReasonError,
    TransactionFailedError,
    UndecodedRevertError,
)
from chain.node import HardhatNode, free_port
from chain.sender import Sender
from testbed import account_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def interval_w3(tmp_path_factory) -> Iterator[Web3]:
    """A second node that mines every 50 ms, so one block holds many transactions."""
    node = HardhatNode(free_port(), var_dir=tmp_path_factory.mktemp("hardhat-interval"), interval_ms=50)
    node.start()
    try:
        yield connect(node.url)
    finally:
        node.stop()


def _counter(w3, fixture_artifacts, owner: Sender, limit: int):
    artifact = fixture_artifacts["Counter"]
    return w3.eth.contract(address=owner.deploy(artifact, limit), abi=artifact.abi)


def test_reverts_decode_the_same_over_json_rpc(hardhat_w3, fixture_artifacts):
    owner = Sender(hardhat_w3, account_for("http-owner"))
    stranger = Sender(hardhat_w3, account_for("http-stranger"))
    counter = _counter(hardhat_w3, fixture_artifacts, owner, 0)

    with pytest.raises(ContractCustomError) as custom:
        stranger.transact(counter.functions.setLimit(5))
    with pytest.raises(ContractReasonError) as reason:
        stranger.transact(counter.functions.failWithReason("no"))
    with pytest.raises(ContractPanicError) as panic:
        stranger.transact(counter.functions.divide(1, 0))
    with pytest.raises(UndecodedRevertError):
        stranger.transact(counter.functions.failSilently())

    assert (custom.value.name, custom.value.args) == ("CounterNotOwner", (stranger.address,))
    assert reason.value.reason == "no"
    assert panic.value.code == 0x12


def test_a_send_that_reverts_under_automine_reports_its_receipt(hardhat_w3, fixture_artifacts):
    owner = Sender(hardhat_w3, account_for("automine-owner"))
    counter = _counter(hardhat_w3, fixture_artifacts, owner, 0)

    with pytest.raises(ContractCustomError) as failed:
        owner.transact(counter.functions.increment(), gas=100_000)  # Hardhat mines it, then says no

    assert failed.value.name == "CounterLimitExceeded"
    assert failed.value.receipt["status"] == 0
    owner.transact(counter.functions.setLimit(1))  # the nonce was resynced after the failure


def test_out_of_gas_is_recognised_over_json_rpc(hardhat_w3, fixture_artifacts):
    owner = Sender(hardhat_w3, account_for("oog-owner"))
    counter = _counter(hardhat_w3, fixture_artifacts, owner, 5)

    with pytest.raises(TransactionFailedError, match="out of gas"):
        owner.transact(counter.functions.setLimit(7), gas=22_000)


def test_send_many_and_bulk_under_automine_keep_nonce_order(hardhat_w3, fixture_artifacts):
    owner = Sender(hardhat_w3, account_for("automine-bulk"))
    counter = _counter(hardhat_w3, fixture_artifacts, owner, 1_000)

    receipts = owner.send_many([counter.functions.increment()] * 20)
    confirmations = owner.send_bulk([counter.functions.increment()] * 60, gas=100_000, chunk_size=25)

    assert all(r["status"] == 1 for r in receipts)
    assert len({c.block_number for c in confirmations}) == 60  # automine: one block each
    assert counter.functions.value().call() == 80


def test_bulk_goes_out_as_json_rpc_batches_under_interval_mining(interval_w3, fixture_artifacts):
    owner = Sender(interval_w3, account_for("interval-bulk"))
    counter = _counter(interval_w3, fixture_artifacts, owner, 10_000)

    confirmations = owner.send_bulk([counter.functions.increment()] * 300, gas=100_000)

    assert counter.functions.value().call() == 300
    assert len({c.block_number for c in confirmations}) < 30  # many per block, not one each


def test_mined_failure_under_interval_mining_is_replayed(interval_w3, fixture_artifacts):
    owner = Sender(interval_w3, account_for("interval-fail"))
    counter = _counter(interval_w3, fixture_artifacts, owner, 2)

    with pytest.raises(ContractCustomError) as failed:
        owner.send_bulk([counter.functions.increment()] * 3, gas=100_000)

    assert failed.value.name == "CounterLimitExceeded"
    assert failed.value.args == (3, 2)
    assert failed.value.receipt["status"] == 0


def test_nonce_resyncs_over_json_rpc(hardhat_w3, fixture_artifacts):
    owner = Sender(hardhat_w3, account_for("http-resync"))
    counter = _counter(hardhat_w3, fixture_artifacts, owner, 10)
    Sender(hardhat_w3, owner.account).transact(counter.functions.increment())  # same key, elsewhere

    owner.transact(counter.functions.increment())

    assert counter.functions.value().call() == 2
