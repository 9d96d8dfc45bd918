"""Reverts come back as typed errors naming the contract's error, wherever they happen."""

from __future__ import annotations

import pickle

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.compile import compile_contracts
from chain.errors import (
    ChainError,
    ContractCustomError,
    ContractPanicError,
    ContractReasonError,
    ContractRevertError,
    TransactionFailedError,
    UndecodedRevertError,
)
from chain.revert import ErrorTable, decode_exception, default_error_table


def test_custom_error_carries_name_args_and_selector(counter, make_sender):
    stranger = make_sender("mallory")

    with pytest.raises(ContractCustomError) as refused:
        stranger.transact(counter.functions.setLimit(99))

    error = refused.value
    assert error.name == "CounterNotOwner"
    assert error.args == (stranger.address,)
    assert error.named_args == {"caller": stranger.address}
    assert error.selector == "0x" + function_signature_to_4byte_selector("CounterNotOwner(address)").hex()
    assert str(error) == f"CounterNotOwner('{stranger.address}')"
    assert isinstance(error, ChainError) and isinstance(error, RuntimeError)


def test_error_string_and_panic_get_their_own_types(counter, make_sender):
    bob = make_sender("bob")

    with pytest.raises(ContractReasonError) as reason:
        bob.transact(counter.functions.failWithReason("limit reached"))
    with pytest.raises(ContractPanicError) as panic:
        bob.transact(counter.functions.divide(1, 0))

    assert reason.value.name == "Error" and reason.value.reason == "limit reached"
    assert panic.value.code == 0x12
    assert "division or modulo by zero" in str(panic.value)


def test_revert_without_data_is_reported_undecoded(counter, make_sender):
    with pytest.raises(UndecodedRevertError) as bare:
        make_sender("bob").transact(counter.functions.failSilently())

    assert bare.value.data == b""
    assert str(bare.value) == "reverted without data"


def test_mined_failure_is_replayed_into_its_custom_error(counter, make_sender):
    bob = make_sender("bob")
    bob.send_many([counter.functions.increment()] * 3)

    with pytest.raises(ContractCustomError) as failed:
        bob.transact(counter.functions.increment(), gas=200_000)  # explicit gas: no pre-check

    assert failed.value.name == "CounterLimitExceeded"
    assert failed.value.args == (4, 3)
    assert failed.value.receipt["status"] == 0
    assert failed.value.tx_hash == failed.value.receipt["transactionHash"].to_0x_hex()


def test_out_of_gas_is_reported_as_out_of_gas(counter, make_sender):
    with pytest.raises(TransactionFailedError, match="ran out of gas"):
        make_sender("alice").transact(counter.functions.setLimit(10), gas=22_000)


def test_the_default_table_knows_every_error_of_every_platform_abi():
    declared = {
        entry["name"]
        for artifact in compile_contracts().values()
        for entry in artifact.abi
        if entry["type"] == "error"
    }

    known = default_error_table().names()

    assert declared <= known
    assert {"MemberRegistryQuorumNotReached", "ConsortiumGuardedUnauthorizedAccount"} <= known
    assert "AccessControlUnauthorizedAccount" in known  # inherited from OpenZeppelin


def test_unknown_selector_keeps_the_raw_data():
    data = bytes.fromhex("deadbeef") + encode(["uint256"], [7])

    error = ErrorTable().decode(data)

    assert isinstance(error, UndecodedRevertError)
    assert error.data == data and error.selector == "0xdeadbeef"
    assert "0xdeadbeef" in str(error)


@pytest.mark.parametrize(
    "error_data",
    [
        "{data}",  # geth, Hardhat, Besu
        "Reverted {data}",  # old Ganache
        {"message": "execution reverted", "data": "{data}"},  # nested object
    ],
)
def test_revert_data_is_found_in_every_node_error_shape(error_data):
    abi = [{"type": "error", "name": "Refused", "inputs": [{"name": "code", "type": "uint16"}]}]
    data = "0x" + (function_signature_to_4byte_selector("Refused(uint16)") + encode(["uint16"], [7])).hex()
    if isinstance(error_data, dict):
        shaped = {key: text.format(data=data) for key, text in error_data.items()}
    else:
        shaped = error_data.format(data=data)

    from_call = decode_exception(ContractLogicError("execution reverted", data=shaped), ErrorTable([abi]))
    from_send = decode_exception(
        Web3RPCError("reverted", rpc_response={"error": {"code": 3, "data": shaped}}), ErrorTable([abi])
    )

    assert from_call.name == from_send.name == "Refused"
    assert from_call.args == from_send.args == (7,)


def test_an_rpc_error_without_revert_data_is_not_a_revert():
    assert decode_exception(Web3RPCError("nonce too low", rpc_response={"error": {"code": -32000}})) is None


def test_decoded_errors_cross_process_boundaries(counter, make_sender):
    with pytest.raises(ContractRevertError) as refused:
        make_sender("mallory").transact(counter.functions.setLimit(1))

    copy = pickle.loads(pickle.dumps(refused.value))

    assert (copy.name, copy.args, copy.data) == (refused.value.name, refused.value.args, refused.value.data)
