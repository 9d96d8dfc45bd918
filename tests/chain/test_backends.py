"""Backends chosen by URL, and the operations that differ between them (embedded side)."""

from __future__ import annotations

import pytest
from web3 import Web3

from chain.backends import (
    BackendKind,
    advance_time,
    backend_kind,
    connect,
    fee_fields,
    fund,
    is_zero_fee,
    revert,
    snapshot,
)
from chain.errors import UnsupportedBackendError
from testbed import account_for


@pytest.mark.parametrize("url", ["embedded", "embedded://", "EMBEDDED"])
def test_embedded_urls_give_a_zero_fee_in_process_chain(url):
    w3 = connect(url)

    assert backend_kind(w3) is BackendKind.EMBEDDED
    assert is_zero_fee(w3)
    assert fee_fields(w3) == {"gasPrice": 0}


def test_http_urls_give_a_json_rpc_provider_without_connecting():
    w3 = connect("http://127.0.0.1:9")

    assert w3.provider.endpoint_uri == "http://127.0.0.1:9"


@pytest.mark.parametrize("url", ["ws://127.0.0.1:8546", "ipc:///tmp/geth.ipc", "embeddedx", "embedded?fee=1"])
def test_unknown_urls_are_refused(url):
    with pytest.raises(UnsupportedBackendError):
        connect(url)


def test_fee_paying_embedded_chain_prices_with_eip1559():
    w3 = connect("embedded?base_fee=1000000000")

    fees = fee_fields(w3)

    assert not is_zero_fee(w3)
    assert fees["maxFeePerGas"] >= 2 * 10**9
    assert fees["maxPriorityFeePerGas"] > 0


def test_fund_raises_the_balance_by_the_amount(w3):
    member = account_for("funded").address

    fund(w3, member, 5 * 10**18)
    fund(w3, member, 10**18)

    assert w3.eth.get_balance(member) == 6 * 10**18


def test_snapshot_and_revert_restore_state(w3):
    member = account_for("rewound").address
    token = snapshot(w3)
    height = w3.eth.block_number
    fund(w3, member, 10**18)

    revert(w3, token)

    assert w3.eth.get_balance(member) == 0
    assert w3.eth.block_number == height


def test_advance_time_mines_a_block_that_late(w3):
    before = w3.eth.get_block("latest")["timestamp"]

    after = advance_time(w3, 3 * 24 * 3600)

    assert after >= before + 3 * 24 * 3600
    assert w3.eth.get_block("latest")["timestamp"] == after


def test_embedded_calls_need_no_balance(w3, counter):
    penniless = Web3.to_checksum_address(account_for("penniless").address)

    assert counter.functions.value().call({"from": penniless}) == 0
