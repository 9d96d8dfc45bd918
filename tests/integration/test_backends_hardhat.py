"""Backend operations on a real Hardhat node: recognised by its client, zero-fee, rehearsable."""

from __future__ import annotations

import pytest

from chain.backends import (
    BackendKind,
    advance_time,
    backend_kind,
    fee_fields,
    fund,
    is_zero_fee,
    revert,
    snapshot,
)
from testbed import account_for

pytestmark = pytest.mark.integration


def test_hardhat_is_recognised_as_a_zero_fee_chain(hardhat_w3):
    assert backend_kind(hardhat_w3) is BackendKind.HARDHAT
    assert is_zero_fee(hardhat_w3)
    assert fee_fields(hardhat_w3) == {"gasPrice": 0}


def test_fund_snapshot_and_time_travel_on_hardhat(hardhat_w3):
    member = account_for("hardhat-funded").address
    token = snapshot(hardhat_w3)
    before = hardhat_w3.eth.get_block("latest")["timestamp"]

    fund(hardhat_w3, member, 3 * 10**18)
    fund(hardhat_w3, member, 10**18)
    later = advance_time(hardhat_w3, 7 * 24 * 3600)
    assert hardhat_w3.eth.get_balance(member) == 4 * 10**18
    assert later >= before + 7 * 24 * 3600

    revert(hardhat_w3, token)
    assert hardhat_w3.eth.get_balance(member) == 0
