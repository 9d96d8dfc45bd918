"""The platform's event history, decoded from the deploy block on, as an auditor replays it."""

from __future__ import annotations

from collections import Counter as Tally

import pytest
from web3.exceptions import Web3RPCError
from web3.middleware import Web3Middleware

from chain.contracts import platform_artifacts
from chain.deploy import pass_proposal
from chain.errors import EventDecodingError
from chain.events import EventDecoder, replay_platform
from testbed import BOOTSTRAPPED, MEMBER_ROLES


def test_replay_from_the_deploy_block_tells_the_consortium_history_in_order(w3, consortium):
    records = list(replay_platform(w3, consortium.manifest))
    events = Tally(r.event for r in records)

    assert [r.position for r in records] == sorted(r.position for r in records)
    assert events["BootstrapCompleted"] == 1
    assert events["MemberAdmitted"] == len(MEMBER_ROLES)
    assert events["ProposalExecuted"] == len(MEMBER_ROLES) - len(BOOTSTRAPPED)
    admitted = {r.args["name"] for r in records if r.event == "MemberAdmitted"}
    assert admitted == set(MEMBER_ROLES)
    assert {r.contract for r in records} == {"MemberRegistry"}


def test_small_pages_give_the_same_history(w3, consortium):
    whole = list(replay_platform(w3, consortium.manifest))

    assert list(replay_platform(w3, consortium.manifest, page_blocks=1)) == whole
    assert list(replay_platform(w3, consortium.manifest, page_blocks=3)) == whole


def test_a_page_the_node_refuses_is_split(w3, consortium):
    whole = list(replay_platform(w3, consortium.manifest))
    refused: list[int] = []

    class RangeCap(Web3Middleware):  # like a provider capping eth_getLogs at 4 blocks
        def request_processor(self, method, params):
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
                if span > 4:
                    refused.append(span)
                    raise Web3RPCError("query exceeds max block range 4")
            return method, params

    w3.middleware_onion.add(RangeCap, name="range-cap")
    try:
        capped = list(replay_platform(w3, consortium.manifest, page_blocks=1000))
    finally:
        w3.middleware_onion.remove("range-cap")

    assert refused  # the cap was hit, and the replay still completed
    assert capped == whole


def test_a_receipt_decodes_into_named_events(consortium):
    registry = consortium.registry
    decoder = EventDecoder.from_manifest(consortium.w3, consortium.manifest)

    _, receipt = pass_proposal(registry, consortium.governors, registry.functions.proposePause())
    records = decoder.decode_receipt(receipt)

    assert [(r.contract, r.event) for r in records] == [
        ("MemberRegistry", "PlatformPaused"),
        ("MemberRegistry", "ProposalExecuted"),
    ]
    assert records[1].args["executor"] == consortium.address("gov-a")


def test_logs_of_other_contracts_are_left_out(consortium, counter, make_sender):
    decoder = EventDecoder.from_manifest(consortium.w3, consortium.manifest)

    receipt = make_sender("bob").transact(counter.functions.increment())

    assert len(receipt["logs"]) == 1
    assert decoder.decode_receipt(receipt) == []


def test_a_log_matching_no_event_of_the_abi_is_an_error(w3, consortium, fixture_artifacts):
    registry = consortium.manifest.contract("MemberRegistry").address
    stale = EventDecoder(w3, {"MemberRegistry": (registry, fixture_artifacts["Counter"].abi)})
    first_log = w3.eth.get_logs({"fromBlock": consortium.manifest.deploy_block, "address": registry})[0]

    with pytest.raises(EventDecodingError, match="matches no event"):
        stale.decode_log(first_log)


def test_decoder_from_manifest_uses_the_compiled_abis(w3, consortium):
    decoder = EventDecoder.from_manifest(w3, consortium.manifest, platform_artifacts())

    assert sorted(decoder.addresses) == sorted(r.address for r in consortium.manifest.contracts.values())
