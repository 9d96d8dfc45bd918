"""Look-ups: the latest committed record with everything needed to verify it; unknown borrowers
reported as missing; and the API keys that guard every route but health."""

from __future__ import annotations

import datetime as dt

from bureau_support import TODAY, credit_frame, records_json

from api.bureau.entries import BureauEntry, EntryColumns
from api.bureau.keys import issue_key, revoke_keys
from api.bureau.store import LOOKUP_SELECT
from chain.leaves import CREDIT_LEAF
from chain.merkle import StandardMerkleTree


def test_lookup_answers_record_salt_hash_proof_root_batch_and_date(client, write_key, read_key, registry):
    frame = credit_frame(12, seed=10)
    client.post("/v1/batches", json=records_json(frame), headers=write_key).raise_for_status()
    borrower = frame["borrower_id"].iloc[7]

    entry = client.get(f"/v1/records/{borrower}", headers=read_key).json()

    assert entry["borrower_id"] == borrower == entry["record"]["borrower_id"]
    assert entry["record"]["age_years"] == int(frame["age_years"].iloc[7])
    assert entry["as_of"] == frame["record_date"].iloc[7].date().isoformat()
    assert entry["batch_id"] == 1 and entry["leaf_index"] == 7
    assert entry["batch_root"] == "0x" + bytes(registry.functions.batch(1).call()[0]).hex()
    assert StandardMerkleTree.verify(entry["batch_root"], CREDIT_LEAF, [entry["salted_hash"]], entry["proof"])


def test_the_newest_record_of_a_borrower_wins(client, write_key, read_key):
    old = credit_frame(5, seed=11, as_of=TODAY - dt.timedelta(days=200))
    new = credit_frame(5, seed=11)
    new["delinquencies_90d_plus"] = 3
    client.post("/v1/batches", json=records_json(new), headers=write_key).raise_for_status()
    client.post("/v1/batches", json=records_json(old), headers=write_key).raise_for_status()  # later batch, older data

    entry = client.get(f"/v1/records/{new['borrower_id'].iloc[0]}", headers=read_key).json()

    assert (entry["batch_id"], entry["record"]["delinquencies_90d_plus"]) == (1, 3)


def test_unknown_borrowers_are_missing_not_errors(client, write_key, read_key):
    frame = credit_frame(4, seed=12)
    client.post("/v1/batches", json=records_json(frame), headers=write_key).raise_for_status()
    known = list(frame["borrower_id"][:2])

    body = client.post("/v1/records/lookup", json={"borrower_ids": [*known, "nobody", known[0]]},
                       headers=read_key).json()

    assert sorted(entry["borrower_id"] for entry in body["records"]) == sorted(known)
    assert body["missing"] == ["nobody"]
    assert all("proof" in entry for entry in body["records"])
    assert "proof" not in client.post("/v1/records/lookup", json={"borrower_ids": known, "proofs": False},
                                      headers=read_key).json()["records"][0]
    single = client.get("/v1/records/nobody", headers=read_key)
    assert (single.status_code, single.json()["error"]) == (404, "not_found")


def test_bulk_lookup_is_limited_per_call(client, read_key, service):
    too_many = [f"b{i}" for i in range(service.settings.max_lookup_ids + 1)]
    response = client.post("/v1/records/lookup", json={"borrower_ids": too_many}, headers=read_key)
    assert response.status_code == 413
    assert "page the call" in response.json()["message"]


def test_batch_leaves_rebuild_the_committed_root(client, write_key, read_key, registry):
    frame = credit_frame(33, seed=13)
    client.post("/v1/batches", json=records_json(frame), headers=write_key).raise_for_status()

    response = client.get("/v1/batches/1/leaves", headers=read_key)

    leaves = response.content
    assert len(leaves) == 33 * 32 and response.headers["X-Record-Count"] == "33"
    tree = StandardMerkleTree.of([(leaves[i * 32 : (i + 1) * 32],) for i in range(33)], CREDIT_LEAF)
    assert tree.root == "0x" + bytes(registry.functions.batch(1).call()[0]).hex() == response.headers["X-Batch-Root"]
    asked = ["0x" + leaves[32 * 32 :].hex(), "0x" + "ab" * 32, "0x" + leaves[:32].hex()]
    proofs = client.post("/v1/batches/1/proofs", json={"salted_hashes": asked}, headers=read_key).json()["proofs"]
    assert proofs == [tree.get_proof(32), None, tree.get_proof(0)]  # a value not in the batch has no proof
    assert client.get("/v1/batches/2", headers=read_key).status_code == 404


def test_every_route_but_health_needs_a_key(client):
    assert client.get("/v1/health").json()["status"] == "ok"
    for method, path in [("get", "/v1/records/x"), ("post", "/v1/records/lookup"), ("get", "/v1/batches"),
                         ("post", "/v1/batches"), ("get", "/v1/batches/1/leaves"), ("post", "/v1/batches/resume")]:
        response = client.request(method.upper(), path, json={"borrower_ids": []})
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthenticated"
    wrong = client.get("/v1/batches", headers={"Authorization": "Bearer bur_not-a-key"})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "unknown or revoked API key")


def test_a_read_key_cannot_publish_and_a_revoked_key_is_refused(client, service, read_key):
    records = records_json(credit_frame(2, seed=14))
    refused = client.post("/v1/batches", json=records, headers=read_key)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert client.get("/v1/batches", headers=read_key).status_code == 200

    revoke_keys(service.engine, "financier")

    assert client.get("/v1/batches", headers=read_key).status_code == 401
    fresh = issue_key(service.engine, "financier")
    assert client.get("/v1/batches", headers={"X-API-Key": fresh}).status_code == 200


def test_bulk_lookup_walks_the_borrower_index_not_every_record(service):
    with service.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {LOOKUP_SELECT}IN (?, ?)", ("a", "b")).all()
    assert "ix_bureau_record_borrower_date" in plan[0][-1]  # a million-id look-up stays linear


def test_columns_layout_carries_the_same_entries(client, write_key, read_key):
    frame = credit_frame(6, seed=15)
    client.post("/v1/batches", json=records_json(frame), headers=write_key).raise_for_status()
    asked = {"borrower_ids": [*frame["borrower_id"], "nobody"]}

    as_records = client.post("/v1/records/lookup", json=asked, headers=read_key).json()
    as_columns = client.post("/v1/records/lookup", json={**asked, "layout": "columns"}, headers=read_key).json()

    assert as_columns["missing"] == as_records["missing"] == ["nobody"]
    assert EntryColumns.from_wire(as_columns["columns"]).entries() == [BureauEntry.from_dict(e) for e in as_records["records"]]
