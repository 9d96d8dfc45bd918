"""Ingesting credit records: one commitBatch per batch, a root anyone can recompute, proofs that
verify in CreditRegistry, and bad batches refused whole with row/field/problem reports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from api.bureau.app import create_app
from api.bureau.bootstrap import build_service
from api.bureau.keys import issue_key
from api.errors import InvalidInputError
from api.platform import Platform
from api.settings import Settings
from chain.keys import EnvironmentKeys, MemberKeys, env_var_for
from chain.leaves import CREDIT_LEAF, from_hex32, salted_record_hash
from chain.merkle import StandardMerkleTree
from bureau_support import TODAY, bureau_rows, credit_frame, records_json
from testbed import account_for


def test_ingest_commits_one_transaction_whose_root_anyone_can_recompute(client, write_key, service, registry,
                                                                         consortium):
    frame = credit_frame(40, seed=1)
    nonce_before = consortium.w3.eth.get_transaction_count(consortium.address("bureau"))

    response = client.post("/v1/batches", json={"records": records_json(frame)}, headers=write_key)

    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["status"], batch["batch_id"], batch["record_count"]) == ("committed", 1, 40)
    assert consortium.w3.eth.get_transaction_count(consortium.address("bureau")) == nonce_before + 1
    assert registry.functions.batchCount().call() == 1
    root, count, as_of, _, bureau = registry.functions.batch(1).call()
    assert (count, bureau) == (40, consortium.address("bureau"))
    assert dt.datetime.fromtimestamp(as_of, dt.timezone.utc).date() == frame["record_date"].max().date()
    assert registry.functions.batchOfRoot(root).call() == 1

    # Recompute the commitment from the stored records and salts alone, with the reference tree.
    rows = bureau_rows(service, "SELECT record_json, salt, salted_hash FROM bureau_record ORDER BY leaf_index")
    hashes = [salted_record_hash(from_hex32(salt), json.loads(record)) for record, salt, _ in rows]
    assert [h.hex() for h in hashes] == [stored[2:] for _, _, stored in rows]
    tree = StandardMerkleTree.of([(h,) for h in hashes], CREDIT_LEAF)
    assert tree.root == "0x" + bytes(root).hex() == batch["root"]


def test_every_record_proof_verifies_in_the_credit_registry(client, write_key, read_key, registry):
    frame = credit_frame(25, seed=2)
    client.post("/v1/batches", json=records_json(frame), headers=write_key).raise_for_status()

    for borrower in frame["borrower_id"]:
        entry = client.get(f"/v1/records/{borrower}", headers=read_key).json()
        proof = [from_hex32(node) for node in entry["proof"]]
        assert registry.functions.verifyRecord(entry["batch_id"], from_hex32(entry["salted_hash"]), proof).call()
        tampered = bytes([from_hex32(entry["salted_hash"])[0] ^ 1]) + from_hex32(entry["salted_hash"])[1:]
        assert not registry.functions.verifyRecord(entry["batch_id"], tampered, proof).call()


def test_csv_upload_is_committed_and_values_keep_their_types(client, write_key, read_key):
    frame = credit_frame(10, seed=3)
    csv = frame.to_csv(index=False, date_format="%Y-%m-%d")

    response = client.post("/v1/batches", content=csv.encode(), headers={**write_key, "Content-Type": "text/csv"})

    assert response.status_code == 201, response.text
    record = client.get(f"/v1/records/{frame['borrower_id'].iloc[0]}", headers=read_key).json()["record"]
    assert record["annual_income_minor"] == int(frame["annual_income_minor"].iloc[0])
    assert record["credit_utilisation"] == float(frame["credit_utilisation"].iloc[0])
    assert record["employment_type"] == frame["employment_type"].iloc[0]
    assert record["record_date"] == frame["record_date"].iloc[0].date().isoformat()


def bad_batch() -> list[dict]:
    records = records_json(credit_frame(6, seed=4))
    records[1]["age_years"] = 12
    del records[2]["annual_income_minor"]
    records[3]["employment_type"] = "astronaut"
    records[4]["borrower_id"] = records[0]["borrower_id"]
    records[5]["record_date"] = (TODAY + dt.timedelta(days=2)).isoformat()
    records[5]["favourite_colour"] = "blue"
    return records


def test_bad_records_are_refused_with_row_field_problem_and_nothing_is_stored(client, write_key, service, registry):
    response = client.post("/v1/batches", json=bad_batch(), headers=write_key)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    found = {(e["row"], e["field"]): e["problem"] for e in body["details"]["errors"]}
    assert "below 18" in found[(1, "age_years")]
    assert "missing" in found[(2, "annual_income_minor")]
    assert "astronaut" in found[(3, "employment_type")]
    assert "more than once" in found[(4, "borrower_id")] and (0, "borrower_id") in found
    assert "after today" in found[(5, "record_date")]
    assert "unknown field" in found[(None, "favourite_colour")]
    assert body["details"]["error_count"] == len(found) == 7
    assert bureau_rows(service, "SELECT count(*) FROM bureau_batch") == [(0,)]
    assert bureau_rows(service, "SELECT count(*) FROM bureau_record") == [(0,)]
    assert registry.functions.batchCount().call() == 0


def test_csv_refusal_names_file_lines(client, write_key):
    frame = credit_frame(3, seed=5).astype({"age_years": object})
    frame.loc[2, "age_years"] = "old"
    csv = frame.to_csv(index=False, date_format="%Y-%m-%d").encode()

    response = client.post("/v1/batches", content=csv, headers={**write_key, "Content-Type": "text/csv"})

    assert response.status_code == 422
    (error,) = response.json()["details"]["errors"]
    assert (error["row"], error["line"], error["field"]) == (2, 4, "age_years")
    assert "not a number" in error["problem"]


def test_refusal_lists_the_first_errors_and_counts_them_all(settings, anchor):
    service = build_service(settings.model_copy(update={"max_error_rows": 5}), anchor=anchor)
    frame = credit_frame(300, seed=6)
    frame["recent_inquiries"] = -1
    frame.loc[:9, "age_years"] = 200

    with pytest.raises(InvalidInputError) as refused:
        service.ingest(frame)

    assert refused.value.details["error_count"] == 310
    assert refused.value.details["shown"] == 5 == len(refused.value.details["errors"])
    assert refused.value.details["errors"][0]["row"] == 0


def test_as_of_before_the_newest_record_is_refused(client, write_key):
    records = records_json(credit_frame(3, seed=7))
    response = client.post("/v1/batches", json={"records": records, "as_of": "2001-01-01"}, headers=write_key)
    assert response.status_code == 422
    assert "precedes its newest record" in response.json()["message"]


def test_empty_batch_and_non_objects_are_refused(client, write_key):
    assert client.post("/v1/batches", json=[], headers=write_key).status_code == 422
    response = client.post("/v1/batches", json=[{"borrower_id": "x"}, 5], headers=write_key)
    assert response.status_code == 422
    assert response.json()["details"]["errors"][0] == {"row": 1, "field": None, "problem": "not a JSON object"}


def test_app_wired_from_a_platform_commits_with_the_credit_bureau_members_key(settings, consortium, registry):
    keys = MemberKeys(environment=EnvironmentKeys({env_var_for("bureau"): account_for("bureau").key.hex()}))
    platform = Platform(Settings(), w3=consortium.w3, manifest=consortium.manifest, keys=keys)
    app = create_app(settings, platform)
    key = issue_key(app.state.bureau.engine, "ops", "write")
    with TestClient(app) as client:
        response = client.post("/v1/batches", json=records_json(credit_frame(5, seed=8)), headers={"X-API-Key": key})

    assert response.status_code == 201, response.text
    assert registry.functions.batch(1).call()[4] == consortium.address("bureau")
