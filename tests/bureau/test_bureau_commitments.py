"""The bureau's bulk paths must give byte for byte what the one-record reference functions give:
canonical JSON (chain.leaves.canonical_json), salted hashes, and the StandardMerkleTree."""

from __future__ import annotations

import datetime as dt
import gc
import json
import secrets

import numpy as np
import pandas as pd
import pytest

from api.bureau.commitments import credit_tree, leaf_tree_indices, plan_batch, proof_from_nodes
from api.bureau.gc_pause import gc_paused
from api.bureau.intake import FIELDS, canonical_batch, frame_from_csv, frame_from_json
from api.errors import InvalidInputError
from chain import merkle_hashing
from chain.leaves import CREDIT_LEAF, canonical_json, salted_record_hash, salted_record_hashes
from chain.merkle import StandardMerkleTree
from bureau_support import TODAY, credit_frame, records_json


def tricky_records() -> list[dict]:
    records = records_json(credit_frame(4, seed=40))
    records[0]["borrower_id"] = 'Zoë "quoted" \\ back\tslash 借款人'
    records[1]["credit_utilisation"] = 1.0  # an integral decimal is written as 1, as JavaScript would
    records[1]["energy_intensity"] = 1e-07
    records[2]["deposits_minor"] = None
    records[2]["industry"] = "ünïcode/ßector"
    records[3]["annual_income_minor"] = "123456"  # a numeric string is a number
    for record in records[3:]:
        for optional in ("equipment_utilisation", "energy_intensity", "logistics_volume"):
            record.pop(optional, None)
    return records


def test_canonical_json_matches_the_reference_for_tricky_values():
    batch = canonical_batch(frame_from_json(tricky_records()), today=TODAY)
    for text in batch.record_json:
        record = json.loads(text)
        assert set(record) == set(FIELDS)
        assert canonical_json(record).decode() == text
    assert json.loads(batch.record_json[1])["credit_utilisation"] == 1
    assert json.loads(batch.record_json[3])["annual_income_minor"] == 123456
    assert json.loads(batch.record_json[3])["logistics_volume"] is None


def test_typed_frame_json_and_csv_give_the_same_canonical_records():
    frame = credit_frame(200, seed=41)
    typed = canonical_batch(frame, today=TODAY).record_json
    from_json = canonical_batch(frame_from_json(records_json(frame)), today=TODAY).record_json
    from_csv = canonical_batch(frame_from_csv(frame.to_csv(index=False, date_format="%Y-%m-%d").encode()),
                               today=TODAY).record_json
    assert typed == from_json == from_csv
    assert [canonical_json(json.loads(text)).decode() for text in typed] == typed


def test_booleans_and_infinities_are_not_numbers():
    records = records_json(credit_frame(2, seed=42))
    records[0]["recent_inquiries"] = True
    records[1]["energy_intensity"] = "inf"

    with pytest.raises(InvalidInputError) as refused:
        canonical_batch(frame_from_json(records), today=TODAY)
    problems = {(e["row"], e["field"]) for e in refused.value.details["errors"]}
    assert problems == {(0, "recent_inquiries"), (1, "energy_intensity")}


def test_bulk_salted_hashes_equal_the_one_record_function():
    records = [json.loads(text) for text in canonical_batch(credit_frame(50, seed=43), today=TODAY).record_json]
    salts = secrets.token_bytes(32 * 50)
    bulk = salted_record_hashes(salts, [canonical_json(record) for record in records])
    assert [bulk[i * 32 : i * 32 + 32] for i in range(50)] == [
        salted_record_hash(salts[i * 32 : i * 32 + 32], record) for i, record in enumerate(records)
    ]


def test_salted_hashes_split_across_forked_workers_equal_the_one_record_function(monkeypatch):
    monkeypatch.setattr(merkle_hashing, "PARALLEL_THRESHOLD", 8)  # fork even for a small batch
    records = [json.loads(text) for text in canonical_batch(credit_frame(50, seed=44), today=TODAY).record_json]
    salts = secrets.token_bytes(32 * 50)
    forked = salted_record_hashes(salts, [canonical_json(record) for record in records], workers=3)
    assert [forked[i * 32 : i * 32 + 32] for i in range(50)] == [
        salted_record_hash(salts[i * 32 : i * 32 + 32], record) for i, record in enumerate(records)
    ]


@pytest.mark.parametrize("count", [1, 2, 3, 17, 64])
def test_credit_tree_root_and_proofs_equal_the_standard_merkle_tree(count):
    values = [secrets.token_bytes(32) for _ in range(count)]
    nodes, tree_indices = credit_tree(b"".join(values))
    reference = StandardMerkleTree.of([(value,) for value in values], CREDIT_LEAF)
    assert "0x" + nodes[:32].hex() == reference.root
    for i in range(count):
        assert int(tree_indices[i]) == reference.tree_index(i)
        assert proof_from_nodes(nodes, int(tree_indices[i])) == reference.get_proof(i)
    assert leaf_tree_indices(nodes, [*values, bytes(32)]) == [*tree_indices.tolist(), None]


def test_plan_dates_the_batch_by_its_newest_record():
    frame = credit_frame(30, seed=44)
    plan = plan_batch(canonical_batch(frame, today=TODAY))
    assert plan.as_of == frame["record_date"].max().date()
    assert plan.record_count == 30 and len(plan.salts) == len(plan.salted_hashes) == 30 * 32
    assert len(set(plan.salts[i * 32 : i * 32 + 32] for i in range(30))) == 30  # a fresh salt per record
    rows = list(plan.rows(batch_pk=9))
    assert rows[0][:4] == (9, 0, int(plan.tree_indices[0]), frame["borrower_id"].iloc[0])
    assert rows[0][4] == frame["record_date"].iloc[0].date().isoformat()


def test_dates_accept_iso_text_date_objects_and_timestamps():
    frame = credit_frame(3, seed=45)
    as_text = frame.assign(record_date=frame["record_date"].dt.strftime("%Y-%m-%d"))
    as_dates = frame.assign(record_date=pd.Series([d.date() for d in frame["record_date"]], dtype=object))
    expected = canonical_batch(frame, today=TODAY).record_json
    assert canonical_batch(as_text, today=TODAY).record_json == expected
    assert canonical_batch(as_dates, today=TODAY).record_json == expected
    assert isinstance(canonical_batch(frame, today=TODAY).record_dates[0], np.datetime64)
    assert dt.date.fromisoformat(json.loads(expected[0])["record_date"]) == frame["record_date"].iloc[0].date()


def test_gc_pause_is_shared_by_nested_blocks_and_lifted_at_the_end():
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
