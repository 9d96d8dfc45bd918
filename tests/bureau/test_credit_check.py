"""The platform's credit check (claim 4) against a real bureau on the embedded chain: verified
records go on to scoring; missing, tampered and stale ones are excluded with their reason.

Tampering happens where an attacker would do it: in the bureau's database. Each case runs
both ways the check verifies inclusion: rebuilding a batch's tree from its leaves (the whole
batch is checked) and per-record proofs (a few records of a big batch).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from bureau_support import TODAY, bureau_rows, credit_frame
from fastapi.testclient import TestClient

from api.bureau.app import create_app
from api.bureau.entries import EntryColumns
from api.services.credit_check import (
    CreditVerdict,
    HttpBureauClient,
    InProcessBureauClient,
    check_credit,
    check_credit_columns,
)
from chain.leaves import salted_record_hash, to_hex32
from scoring.credit_policy import BAD_PROOF, HASH_MISMATCH, NO_RECORD, STALE, UNKNOWN_BATCH


@pytest.fixture
def two_batches(service):
    """Batch 1 and batch 2 of 40 fresh records each; returns their borrower ids."""
    first, second = credit_frame(40, seed=30), credit_frame(40, seed=31)
    service.ingest(first)
    service.ingest(second)
    return list(first["borrower_id"]), list(second["borrower_id"])


def run_check(service, registry, borrower_ids, **policy) -> dict[str, CreditVerdict]:
    verdicts = check_credit(InProcessBureauClient(service), registry, borrower_ids, today=TODAY,
                            max_age_days=policy.pop("max_age_days", 90), **policy)
    return {verdict.borrower_id: verdict for verdict in verdicts}


def test_verified_fresh_records_go_on_to_scoring_in_input_order(service, registry, two_batches):
    first, second = two_batches
    asked = [second[3], first[0], second[3], "nobody"]  # a borrower with two loans, and an unknown one

    verdicts = check_credit(InProcessBureauClient(service), registry, asked, today=TODAY, max_age_days=90)

    assert [v.borrower_id for v in verdicts] == asked
    good = verdicts[0]
    assert (good.eligible, good.reason, good.weight_ppm, good.credit_batch_id) == (True, None, 1_000_000, 2)
    assert good.record == service.record(second[3]).record and good.record["borrower_id"] == second[3]
    assert good.as_of == dt.date.fromisoformat(good.record["record_date"])
    salt = bytes.fromhex(service.record(second[3]).salt[2:])
    assert good.salted_hash == to_hex32(salted_record_hash(salt, good.record))
    assert verdicts[2] == good
    missing = verdicts[3]
    assert (missing.eligible, missing.reason, missing.record, missing.credit_batch_id) == (False, NO_RECORD, None, None)


def tamper_changed_field(service, borrower):
    (record_json,) = bureau_rows(service, "SELECT record_json FROM bureau_record WHERE borrower_id = :b", b=borrower)[0]
    record = json.loads(record_json)
    record["delinquencies_90d_plus"] += 5  # a worse history than the bureau committed
    bureau_rows(service, "UPDATE bureau_record SET record_json = :j WHERE borrower_id = :b",
                j=json.dumps(record, sort_keys=True, separators=(",", ":")), b=borrower)


def tamper_wrong_salt(service, borrower):
    bureau_rows(service, "UPDATE bureau_record SET salt = :s WHERE borrower_id = :b", s="0x" + "11" * 32, b=borrower)


def tamper_consistent_rewrite(service, borrower):
    """Change a field and recompute the salted hash too: only the chain can tell."""
    (record_json, salt), = bureau_rows(service, "SELECT record_json, salt FROM bureau_record WHERE borrower_id = :b",
                                       b=borrower)
    record = json.loads(record_json)
    record["annual_income_minor"] *= 3
    bureau_rows(service, "UPDATE bureau_record SET record_json = :j, salted_hash = :h WHERE borrower_id = :b",
                j=json.dumps(record, sort_keys=True, separators=(",", ":")),
                h=to_hex32(salted_record_hash(bytes.fromhex(salt[2:]), record)), b=borrower)


def tamper_other_batch(service, borrower):
    """File a record of batch 2 under batch 1: its proof is then one of another batch's tree."""
    bureau_rows(service, "UPDATE bureau_record SET batch_pk = (SELECT id FROM bureau_batch WHERE chain_batch_id = 1) "
                         "WHERE borrower_id = :b", b=borrower)


TAMPERS = [(tamper_changed_field, HASH_MISMATCH), (tamper_wrong_salt, HASH_MISMATCH),
           (tamper_other_batch, BAD_PROOF), (tamper_consistent_rewrite, BAD_PROOF)]


@pytest.mark.parametrize(("tamper", "reason"), TAMPERS, ids=[t.__name__ for t, _ in TAMPERS])
@pytest.mark.parametrize("whole_batches", [True, False], ids=["rebuilt-tree", "per-record-proofs"])
def test_a_tampered_record_is_detected_and_its_asset_excluded(service, registry, two_batches, tamper, reason,
                                                              whole_batches):
    first, second = two_batches
    victim = second[5]
    tamper(service, victim)
    # All 80 borrowers: each batch is rebuilt from its leaves. Two per batch: each record is proven.
    asked = first + second if whole_batches else [first[7], second[9], victim]

    verdicts = run_check(service, registry, asked)

    bad = verdicts[victim]
    assert (bad.eligible, bad.reason, bad.weight_ppm, bad.record, bad.salted_hash) == (False, reason, 0, None, None)
    assert all(v.eligible and v.reason is None for b, v in verdicts.items() if b != victim)


def test_a_batch_the_chain_does_not_know_excludes_its_records(service, registry, two_batches):
    first, second = two_batches
    bureau_rows(service, "UPDATE bureau_batch SET chain_batch_id = 77 WHERE chain_batch_id = 2")

    verdicts = run_check(service, registry, [first[0], second[0]])

    assert (verdicts[second[0]].eligible, verdicts[second[0]].reason) == (False, UNKNOWN_BATCH)
    assert verdicts[first[0]].eligible


def test_a_root_the_chain_disagrees_with_is_an_unknown_batch(service, registry, two_batches):
    first, _ = two_batches
    bureau_rows(service, "UPDATE bureau_batch SET root = :r WHERE chain_batch_id = 1", r="0x" + "22" * 32)
    assert run_check(service, registry, first[:1])[first[0]].reason == UNKNOWN_BATCH


def test_stale_records_are_excluded_or_kept_at_a_smaller_weight(service, registry):
    old = credit_frame(6, seed=32, as_of=TODAY - dt.timedelta(days=400))
    fresh = credit_frame(6, seed=33)
    service.ingest(old)
    service.ingest(fresh)
    stale_id, fresh_id = old["borrower_id"].iloc[0], fresh["borrower_id"].iloc[0]

    excluded = run_check(service, registry, [stale_id, fresh_id], stale_policy="exclude")
    kept = run_check(service, registry, [stale_id, fresh_id], stale_policy="downweight", stale_weight_ppm=300_000)

    assert (excluded[stale_id].eligible, excluded[stale_id].reason, excluded[stale_id].record) == (False, STALE, None)
    assert excluded[stale_id].as_of == old["record_date"].iloc[0].date()  # verified, so its date is reported
    assert (kept[stale_id].eligible, kept[stale_id].reason, kept[stale_id].weight_ppm) == (True, STALE, 300_000)
    assert kept[stale_id].record["borrower_id"] == stale_id
    assert excluded[fresh_id].weight_ppm == kept[fresh_id].weight_ppm == 1_000_000
    # The age limit is the caller's: a year-old record is fresh under a 500-day limit.
    assert run_check(service, registry, [stale_id], max_age_days=500)[stale_id].reason is None


def test_the_record_date_that_counts_is_the_committed_one(service, registry):
    old = credit_frame(3, seed=34, as_of=TODAY - dt.timedelta(days=400))
    service.ingest(old)
    borrower = old["borrower_id"].iloc[0]
    bureau_rows(service, "UPDATE bureau_record SET record_date = :d WHERE borrower_id = :b", d=TODAY.isoformat(),
                b=borrower)
    assert run_check(service, registry, [borrower])[borrower].reason == STALE


def test_http_client_gives_the_same_verdicts_as_in_process(settings, service, registry, two_batches, read_key):
    first, second = two_batches
    tamper_wrong_salt(service, first[2])
    asked = first + second + ["nobody"]
    with TestClient(create_app(settings, service=service)) as http:
        client = HttpBureauClient("http://bureau", read_key["Authorization"][7:], page_size=7, http=http)
        over_http = check_credit(client, registry, asked, today=TODAY, max_age_days=90)

    assert over_http == check_credit(InProcessBureauClient(service), registry, asked, today=TODAY, max_age_days=90)
    assert [v.reason for v in over_http if not v.eligible] == [HASH_MISMATCH, NO_RECORD]


class LookupOnlyClient:
    """A minimal bureau client (the protocol's one method): every record comes with its proof."""

    def __init__(self, service):
        self.service = service

    def lookup(self, borrower_ids):
        return self.service.lookup(borrower_ids, proofs=True)[0]


def test_a_lookup_only_client_is_verified_by_proofs(service, registry, two_batches):
    first, second = two_batches
    tamper_other_batch(service, second[0])
    verdicts = check_credit(LookupOnlyClient(service), registry, first + second, today=TODAY, max_age_days=90)
    assert [(v.borrower_id, v.reason) for v in verdicts if not v.eligible] == [(second[0], BAD_PROOF)]


class CountingClient(InProcessBureauClient):
    def __init__(self, service):
        super().__init__(service)
        self.leaves_asked: list[int] = []
        self.proofs_asked: list[int] = []

    def batch_leaves(self, batch_id):
        self.leaves_asked.append(batch_id)
        return super().batch_leaves(batch_id)

    def batch_proofs(self, batch_id, salted_hashes):
        self.proofs_asked += [batch_id] * len(salted_hashes)
        return super().batch_proofs(batch_id, salted_hashes)


def test_whole_batches_are_checked_from_their_leaves_and_a_few_records_by_proofs(service, registry, two_batches):
    first, second = two_batches
    client = CountingClient(service)
    verdicts = check_credit(client, registry, first + second[:2], today=TODAY, max_age_days=90)
    assert all(v.eligible for v in verdicts)
    assert (client.leaves_asked, client.proofs_asked) == ([1], [2, 2])

    tamper_other_batch(service, second[0])  # batch 1's leaves no longer give its root: fall back to proofs
    client = CountingClient(service)
    verdicts = check_credit(client, registry, first + second[:1], today=TODAY, max_age_days=90)
    assert [v.reason for v in verdicts] == [None] * 40 + [BAD_PROOF]
    assert (client.leaves_asked, client.proofs_asked) == ([1], [1] * 41)


def test_the_column_check_gives_the_verdicts_and_the_verified_records_as_one_table(service, registry, two_batches):
    first, second = two_batches
    tamper_changed_field(service, second[5])
    asked = first[:10] + second[:10] + ["nobody", first[0]]

    checked = check_credit_columns(InProcessBureauClient(service), registry, asked, today=TODAY, max_age_days=90)

    assert checked.borrower_id == list(dict.fromkeys(asked))  # one row per distinct borrower, first seen first
    verdicts = run_check(service, registry, asked)
    assert checked.verdicts(asked) == [verdicts[b] for b in asked]
    assert checked.eligible.tolist() == [verdicts[b].eligible for b in checked.borrower_id]
    assert checked.verified.tolist() == [verdicts[b].salted_hash is not None for b in checked.borrower_id]
    rows = np.flatnonzero(checked.eligible)
    table = checked.records_of(rows)
    for row, record in zip(rows.tolist(), table.to_dict(orient="records")):
        want = verdicts[checked.borrower_id[row]].record
        assert {k: None if pd.isna(v) else v for k, v in record.items()} == want
    with pytest.raises(ValueError, match="without a verified record"):
        checked.records_of(np.array([checked.borrower_id.index(second[5])]))


class ChattyClient(InProcessBureauClient):
    """A bureau that also answers borrowers nobody asked for, and one borrower twice."""

    def lookup_columns(self, borrower_ids, *, proofs=False):
        found = super().lookup_columns(borrower_ids, proofs=proofs)
        extra = super().lookup_columns([self.extra], proofs=proofs)
        twice = found.take([0])
        return EntryColumns.concat([extra, found, twice])


def test_answers_nobody_asked_for_are_ignored(service, registry, two_batches):
    first, second = two_batches
    client = ChattyClient(service)
    client.extra = second[0]

    checked = check_credit_columns(client, registry, first[:5], today=TODAY, max_age_days=90)

    assert checked.borrower_id == first[:5] and checked.eligible.all()
    assert checked.records_of(np.arange(5))["borrower_id"].tolist() == first[:5]
