"""Crash safety: a batch is stored as pending with its root before the root is sent, and a
restarted bureau finishes it, committing on chain only if the chain does not have it yet."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.bureau.anchor import ChainCreditAnchor
from api.bureau.app import create_app
from api.bureau.bootstrap import build_service
from api.errors import ChainUnavailableError
from bureau_support import bureau_rows, credit_frame, records_json


class CrashBeforeSending(ChainCreditAnchor):
    """The chain is unreachable when the batch is to be committed."""

    def commit(self, root: str, record_count: int, as_of: dt.date):
        raise ChainUnavailableError("no chain answers at http://127.0.0.1:1")


class CrashAfterSending(ChainCreditAnchor):
    """The commitment is mined, then the process dies before recording it."""

    def commit(self, root: str, record_count: int, as_of: dt.date):
        super().commit(root, record_count, as_of)
        raise KeyboardInterrupt("killed after sending")


def crashing(anchor: ChainCreditAnchor, kind: type) -> ChainCreditAnchor:
    return kind(anchor.registry, anchor.sender, from_block=anchor.from_block)


def test_a_batch_the_chain_never_saw_is_committed_on_restart(settings, anchor, registry):
    frame = credit_frame(20, seed=20)
    first = build_service(settings, anchor=crashing(anchor, CrashBeforeSending))

    with pytest.raises(ChainUnavailableError) as crashed:
        first.ingest(frame)

    assert crashed.value.details["status"] == "pending"
    assert bureau_rows(first, "SELECT status, chain_batch_id FROM bureau_batch") == [("pending", None)]
    assert first.lookup(list(frame["borrower_id"]))[0] == {}  # nothing served before it is on chain
    assert registry.functions.batchCount().call() == 0

    restarted = build_service(settings, anchor=anchor)
    with TestClient(create_app(settings, service=restarted)) as client:  # start-up resumes pending batches
        assert client.get("/v1/health").json() == {"status": "ok", "pending_batches": 0}

    assert registry.functions.batchCount().call() == 1
    (root, status, batch_id, tx_hash), = bureau_rows(restarted, "SELECT root, status, chain_batch_id, tx_hash "
                                                                "FROM bureau_batch")
    assert (status, batch_id) == ("committed", 1)
    assert root == crashed.value.details["root"] == "0x" + bytes(registry.functions.batch(1).call()[0]).hex()
    assert tx_hash is not None and restarted.record(frame["borrower_id"].iloc[3]).batch_id == 1


def test_a_batch_already_on_chain_is_recorded_without_a_second_commit(settings, anchor, registry, consortium):
    frame = credit_frame(20, seed=21)
    first = build_service(settings, anchor=crashing(anchor, CrashAfterSending))
    with pytest.raises(KeyboardInterrupt):
        first.ingest(frame)
    assert registry.functions.batchCount().call() == 1
    assert bureau_rows(first, "SELECT status FROM bureau_batch") == [("pending",)]
    nonce = consortium.w3.eth.get_transaction_count(consortium.address("bureau"))

    (info,) = build_service(settings, anchor=anchor).resume_pending()

    assert (info.status, info.batch_id) == ("committed", 1)
    assert consortium.w3.eth.get_transaction_count(consortium.address("bureau")) == nonce  # no second transaction
    assert registry.functions.batchCount().call() == 1
    committed_tx = registry.events.CreditBatchCommitted().get_logs(from_block=0)[0]["transactionHash"]
    assert info.tx_hash == "0x" + bytes(committed_tx).hex()


def test_resume_over_http_reports_what_it_finished(settings, anchor, write_key, service):
    with pytest.raises(ChainUnavailableError):
        build_service(settings, anchor=crashing(anchor, CrashBeforeSending)).ingest(credit_frame(3, seed=22))
    quiet = settings.model_copy(update={"resume_on_startup": False})
    with TestClient(create_app(quiet, service=service)) as client:
        assert client.get("/v1/health").json()["pending_batches"] == 1
        response = client.post("/v1/batches/resume", headers=write_key)
    assert response.status_code == 200
    assert [batch["status"] for batch in response.json()["batches"]] == ["committed"]


def test_ingest_while_the_chain_is_down_answers_503_and_keeps_the_batch(settings, anchor, write_key, service):
    down = build_service(settings, anchor=crashing(anchor, CrashBeforeSending))
    with TestClient(create_app(settings, service=down)) as client:
        response = client.post("/v1/batches", json=records_json(credit_frame(3, seed=23)), headers=write_key)
    assert response.status_code == 503
    assert response.json()["details"]["status"] == "pending"
    assert bureau_rows(service, "SELECT count(*) FROM bureau_record") == [(3,)]
