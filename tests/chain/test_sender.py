"""The Sender: local signing, raw sends only, nonces, fees, gas, receipts and reverts."""

from __future__ import annotations

import threading

import pytest
from eth_account import Account
from web3 import Web3
from web3.middleware import Web3Middleware

from chain.backends import connect, fund
from chain.errors import ContractCustomError, ReceiptTimeoutError, TransactionRejectedError
from chain.sender import Sender
from testbed import account_for


@pytest.fixture
def roomy_counter(w3, fixture_artifacts, make_sender):
    """A Counter with room for many increments."""
    artifact = fixture_artifacts["Counter"]
    return w3.eth.contract(address=make_sender("alice").deploy(artifact, 10_000), abi=artifact.abi)


def test_transact_changes_state_and_returns_a_successful_receipt(counter, make_sender):
    receipt = make_sender("bob").transact(counter.functions.increment())

    assert receipt["status"] == 1
    assert counter.functions.value().call() == 1


def test_members_need_no_ether_on_a_zero_fee_chain(w3, counter, make_sender):
    bob = make_sender("bob")
    receipt = bob.transact(counter.functions.increment())

    sent = w3.eth.get_transaction(receipt["transactionHash"])
    assert w3.eth.get_balance(bob.address) == 0
    assert sent["type"] == 0 and sent["gasPrice"] == 0


def test_gas_limit_leaves_a_margin_over_the_gas_used(w3, counter, make_sender):
    receipt = make_sender("bob").transact(counter.functions.increment())

    gas_limit = w3.eth.get_transaction(receipt["transactionHash"])["gas"]
    assert gas_limit >= receipt["gasUsed"] * 1.2


def test_only_raw_transactions_reach_the_node(fixture_artifacts):
    """The node is never asked to sign: no eth_sendTransaction, no node accounts."""
    seen: list[str] = []

    class Recorder(Web3Middleware):
        def request_processor(self, method, params):
            seen.append(method)
            return method, params

    w3 = connect("embedded")
    w3.middleware_onion.add(Recorder)
    sender = Sender(w3, account_for("carol"))
    artifact = fixture_artifacts["Counter"]
    counter = w3.eth.contract(address=sender.deploy(artifact, 5), abi=artifact.abi)
    sender.send_many([counter.functions.increment(), counter.functions.increment()])

    assert seen.count("eth_sendRawTransaction") == 3
    assert not {"eth_sendTransaction", "eth_signTransaction", "eth_sign", "eth_accounts"} & set(seen)


def test_fee_paying_chain_gets_eip1559_transactions(fixture_artifacts):
    w3 = connect("embedded?base_fee=1000000000")
    sender = Sender(w3, account_for("dave"))
    fund(w3, sender.address, 10**18)
    artifact = fixture_artifacts["Counter"]
    counter = w3.eth.contract(address=sender.deploy(artifact, 5), abi=artifact.abi)

    receipt = sender.transact(counter.functions.increment())

    sent = w3.eth.get_transaction(receipt["transactionHash"])
    assert sent["type"] == 2
    assert sent["maxFeePerGas"] >= w3.eth.get_block(receipt["blockNumber"])["baseFeePerGas"]
    assert w3.eth.get_balance(sender.address) < 10**18  # fees were paid


def test_deploy_returns_the_address_of_the_new_contract(w3, fixture_artifacts, make_sender):
    artifact = fixture_artifacts["Counter"]

    address = make_sender("erin").deploy(artifact, 7)

    assert w3.eth.get_code(address) != b""
    assert w3.eth.contract(address=address, abi=artifact.abi).functions.limit().call() == 7


def test_send_many_keeps_nonce_order_and_lets_calls_depend_on_earlier_ones(w3, counter, make_sender):
    alice = make_sender("alice")  # the deployer, the only one allowed to raise the limit
    calls = [counter.functions.increment()] * 3 + [counter.functions.setLimit(10)]
    calls += [counter.functions.increment()] * 2  # would revert without the setLimit before them

    receipts = alice.send_many(calls)

    nonces = [w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts]
    assert nonces == list(range(nonces[0], nonces[0] + 6))
    assert counter.functions.value().call() == 5


def test_send_many_raises_the_first_failure_after_all_are_mined(counter, make_sender):
    bob = make_sender("bob")

    with pytest.raises(ContractCustomError) as failed:
        bob.send_many([counter.functions.increment()] * 5, gas=200_000)  # no estimate: all are sent

    assert failed.value.name == "CounterLimitExceeded"
    assert failed.value.args == (4, 3)
    assert failed.value.receipt["status"] == 0
    assert any("call 4 of 5" in note for note in failed.value.__notes__)
    assert counter.functions.value().call() == 3


def test_send_bulk_confirms_every_transaction(roomy_counter, make_sender):
    confirmations = make_sender("bob").send_bulk([roomy_counter.functions.increment()] * 40, gas=200_000)

    assert len(confirmations) == 40
    assert len({c.tx_hash for c in confirmations}) == 40
    assert all(c.gas_used > 21_000 for c in confirmations)
    assert roomy_counter.functions.value().call() == 40


def test_send_bulk_decodes_a_failure(counter, make_sender):
    with pytest.raises(ContractCustomError) as failed:
        make_sender("bob").send_bulk([counter.functions.increment()] * 4, gas=200_000)

    assert failed.value.name == "CounterLimitExceeded"
    assert counter.functions.value().call() == 3


def test_nonce_resyncs_when_the_key_is_used_elsewhere(w3, roomy_counter, make_sender):
    first = make_sender("frank")
    elsewhere = Sender(w3, first.account)  # e.g. the same member's key in another process
    first.transact(roomy_counter.functions.increment())
    elsewhere.transact(roomy_counter.functions.increment())  # takes the nonce `first` cached

    first.transact(roomy_counter.functions.increment())

    assert roomy_counter.functions.value().call() == 3
    assert w3.eth.get_transaction_count(first.address) == 3


def test_one_sender_is_safe_to_share_between_threads(w3, roomy_counter, make_sender):
    shared = make_sender("grace")
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                shared.transact(roomy_counter.functions.increment())
        except BaseException as exc:  # noqa: BLE001  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert roomy_counter.functions.value().call() == 20
    assert w3.eth.get_transaction_count(shared.address) == 20


def test_a_transaction_the_node_refuses_raises_rejected(w3, make_sender):
    broke = make_sender("heidi")  # holds no ether, so cannot transfer any

    with pytest.raises(TransactionRejectedError):
        broke.transact({"to": account_for("ivan").address}, value=1)

    assert w3.eth.get_transaction_count(broke.address) == 0


def test_missing_receipt_times_out_naming_the_transaction(w3):
    sender = Sender(w3, Account.create(), receipt_timeout=0.1)
    unknown = "0x" + "ab" * 32

    with pytest.raises(ReceiptTimeoutError) as timed_out:
        sender.wait_for_receipts([unknown])

    assert timed_out.value.tx_hash == unknown
    assert isinstance(timed_out.value, TimeoutError)


def test_sender_repr_shows_no_key(make_sender):
    sender = make_sender("judy")

    assert sender.account.key.hex() not in repr(sender)
    assert Web3.to_checksum_address(sender.address) in repr(sender)
