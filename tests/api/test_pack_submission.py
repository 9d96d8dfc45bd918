"""Submitting packs: row-level refusals that store nothing, idempotency, loan ids unique across live packs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import text

from api.orchestrator.submission.fields import canonical_json_rows, canonical_record
from chain.leaves import canonical_json
from support import loans, pack_csv, pack_frame, pack_json_assets

CSV = {"Content-Type": "text/csv"}


def stored_rows(api) -> dict[str, int]:
    with api.orchestrator.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("pack", "asset", "loan_claim", "chain_tx")}


NOTHING = {"pack": 0, "asset": 0, "loan_claim": 0, "chain_tx": 0}


def test_bad_rows_are_refused_with_row_field_and_problem_and_nothing_is_stored(api):
    frame = loans(pack_frame(50, seed=3001, financier="bad"))
    frame = frame.astype(str)
    frame.loc[2, "principal_minor"] = "12.5"
    frame.loc[4, "outstanding_balance_minor"] = "-100"
    frame.loc[6, "maturity_date"] = "2020-01-01"
    frame.loc[7, "origination_date"] = "2024-02-30"
    frame.loc[9, "loan_id"] = frame.loc[3, "loan_id"]
    frame.loc[11, "annual_rate_bps"] = "250000"
    frame.loc[12, "borrower_id"] = ""
    body = frame.to_csv(index=False).encode()
    response = api.post("/v1/packs/csv", key="bad-1", content=body, headers=CSV)
    assert response.status_code == 422
    details = response.json()["details"]
    problems = {(p["row"], p["field"]): p for p in details["problems"]}
    assert set(problems) == {(3, "principal_minor"), (5, "outstanding_balance_minor"), (7, "maturity_date"),
                             (8, "origination_date"), (10, "loan_id"), (12, "annual_rate_bps"), (13, "borrower_id")}
    assert problems[(3, "principal_minor")]["line"] == 4  # the header is line 1
    assert "12.5" in problems[(3, "principal_minor")]["problem"]
    assert "already appears on row 4" in problems[(10, "loan_id")]["problem"]
    assert details["total_problems"] == 7 and details["rows_with_problems"] == 7
    assert stored_rows(api) == NOTHING


def test_only_the_first_n_problems_are_listed_but_all_are_counted(make_api):
    api = make_api(max_error_rows=5)
    frame = loans(pack_frame(40, seed=3002, financier="many")).astype(str)
    frame["term_months"] = "0"
    response = api.post("/v1/packs/csv", key="many", content=frame.to_csv(index=False).encode(), headers=CSV)
    details = response.json()["details"]
    assert response.status_code == 422
    assert (details["total_problems"], details["shown"], len(details["problems"])) == (40, 5, 5)
    assert [p["row"] for p in details["problems"]] == [1, 2, 3, 4, 5]
    assert stored_rows(api) == NOTHING


@pytest.mark.parametrize("mutate, field", [
    (lambda csv: csv.replace(b"region", b"regoin", 1), "regoin"),
    (lambda csv: csv.replace(b",region", b"", 1), "region"),
    (lambda csv: csv.split(b"\n", 1)[0] + b"\n", "(file)"),
    (lambda csv: b"", "(header)"),
    (lambda csv: b"\xff\xfe" + csv, "(file)"),
])
def test_a_malformed_file_is_refused_as_a_whole(api, mutate, field):
    body = mutate(pack_csv(pack_frame(5, seed=3003, financier="hdr")))
    response = api.post("/v1/packs/csv", key="hdr", content=body, headers=CSV)
    assert response.status_code == 422, response.text
    assert field in {p["field"] for p in response.json()["details"]["problems"]}
    assert stored_rows(api) == NOTHING


def test_json_values_of_the_wrong_type_are_refused_per_row(api):
    assets = pack_json_assets(pack_frame(10, seed=3004, financier="json"))
    assets[1]["principal_minor"] = 1000.5
    assets[2]["outstanding_balance_minor"] = "1000"
    assets[3]["term_months"] = True
    assets[4]["colour"] = "red"
    del assets[5]["industry"]
    response = api.post("/v1/packs", key="json-bad", json={"assets": assets})
    assert response.status_code == 422
    found = {(p["row"], p["field"]) for p in response.json()["details"]["problems"]}
    assert found == {(2, "principal_minor"), (3, "outstanding_balance_minor"), (4, "term_months"), (5, "colour"),
                     (6, "industry")}
    assert stored_rows(api) == NOTHING


def test_same_key_and_body_give_the_same_pack_and_another_body_is_a_conflict(api, world):
    frame = pack_frame(30, seed=3005, financier="idem")
    world.seed(frame)
    body = pack_csv(frame)
    first = api.post("/v1/packs/csv?expected_bad_rate=0.2", key="idem-1", content=body, headers=CSV)
    again = api.post("/v1/packs/csv?expected_bad_rate=0.2", key="idem-1", content=body, headers=CSV)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    other_options = api.post("/v1/packs/csv?expected_bad_rate=0.1", key="idem-1", content=body, headers=CSV)
    other_body = api.post("/v1/packs/csv?expected_bad_rate=0.2", key="idem-1", content=body + b"\n", headers=CSV)
    assert other_options.status_code == other_body.status_code == 409
    assert other_options.json()["details"]["pack_id"] == first.json()["id"]
    assert stored_rows(api)["pack"] == 1
    api.wait(first.json()["id"])
    assert stored_rows(api)["chain_tx"] == 7, "a replay never starts a second pipeline"


def test_an_idempotency_key_is_required_and_a_refused_body_does_not_use_it_up(api, world):
    frame = pack_frame(20, seed=3006, financier="key")
    world.seed(frame)
    missing = api.post("/v1/packs/csv", content=pack_csv(frame), headers=CSV)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["message"]
    broken = loans(frame).astype(str)
    broken.loc[0, "term_months"] = "forever"
    assert api.post("/v1/packs/csv", key="retry", content=broken.to_csv(index=False).encode(),
                    headers=CSV).status_code == 422
    assert api.post("/v1/packs/csv", key="retry", content=pack_csv(frame), headers=CSV).status_code == 202


def test_a_loan_in_a_live_pack_cannot_be_submitted_again_until_that_pack_is_withdrawn(api, world):
    frame = pack_frame(30, seed=3007, financier="dup")
    world.seed(frame)
    first = api.post("/v1/packs/csv?expected_bad_rate=0.2", key="dup-1", content=pack_csv(frame), headers=CSV)
    assert first.status_code == 202
    view = api.wait(first.json()["id"])
    owing = np.flatnonzero(frame["outstanding_balance_minor"].to_numpy() > 0)
    overlap = pack_csv(frame.iloc[owing[[3, 4]]])
    refused = api.post("/v1/packs/csv", key="dup-2", content=overlap, headers=CSV)
    assert refused.status_code == 422
    problems = refused.json()["details"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(1, "loan_id"), (2, "loan_id")]
    assert f"live pack {view['id']}" in problems[0]["problem"]
    assert stored_rows(api)["pack"] == 1
    # a committed pack stays live; a withdrawn one frees its loans
    assert api.post(f"/v1/packs/{view['id']}/withdraw").status_code == 409


def test_withdrawing_a_pack_frees_its_loan_ids(make_api, world):
    api = make_api(pipeline_threads=0)  # no pipeline runs: the pack stays queued
    frame = pack_frame(10, seed=3008, financier="wd")
    frame = frame[frame["outstanding_balance_minor"] > 0]
    first = api.post("/v1/packs/csv", key="wd-1", content=pack_csv(frame), headers=CSV).json()
    assert api.post("/v1/packs/csv", key="wd-2", content=pack_csv(frame), headers=CSV).status_code == 422
    withdrawn = api.post(f"/v1/packs/{first['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api.post("/v1/packs/csv", key="wd-2", content=pack_csv(frame), headers=CSV).status_code == 202


def test_expected_bad_rate_defaults_to_the_platform_and_is_exact(make_api, world):
    api = make_api(pipeline_threads=0, default_expected_bad_rate_ppm=42_000)
    body = pack_csv(pack_frame(5, seed=3009, financier="rate"))
    default = api.post("/v1/packs/csv", key="r1", content=body, headers=CSV).json()
    assert default["expected_bad_rate_ppm"] == 42_000
    assets = pack_json_assets(pack_frame(5, seed=3010, financier="rate"))
    exact = api.post("/v1/packs", key="r2", json={"expected_bad_rate": 0.07, "assets": assets}).json()
    assert exact["expected_bad_rate_ppm"] == 70_000
    finer = api.post("/v1/packs", key="r3", json={"expected_bad_rate": "0.0500001", "assets": assets})
    assert finer.status_code == 422 and "ppm" in finer.json()["message"]


def test_canonical_rows_hash_exactly_like_the_shared_canonical_json():
    frame = loans(pack_frame(200, seed=3011, financier="canon"))
    frame.loc[0, "borrower_id"] = 'quote " and \\ backslash'
    frame.loc[1, "industry"] = "caf\u00e9 \u4e2d\u6587"
    frame.loc[2, "collateral_ids"] = ""
    columns = {name: frame[name].tolist() for name in frame.columns}
    fast = canonical_json_rows(columns)
    for position, row in enumerate(frame.to_dict(orient="records")):
        assert fast[position] == canonical_json(canonical_record(row))
    assert json.loads(fast[2])["collateral_ids"] == []


@pytest.mark.parametrize("escapes", [False, True], ids=["arrow-kernels", "python-quoting"])
def test_the_arrow_built_canonical_json_and_its_hashes_are_the_same_bytes(escapes):
    from api.orchestrator.submission.fields import canonical_json_column
    from api.orchestrator.submission.hashing import asset_ids_of, hash_column
    from chain.leaves import asset_id, record_hash

    frame = loans(pack_frame(300, seed=3012, financier="arrow"))
    frame.loc[3, "industry"] = "caf\u00e9 \u4e2d\u6587"
    frame.loc[4, "collateral_ids"] = ""
    frame.loc[5, "collateral_ids"] = "C-1;C-2;C-3"
    if escapes:
        frame.loc[0, "borrower_id"] = 'quote " and \\ backslash'
        frame.loc[1, "region"] = "tab\there"
        frame.loc[2, "collateral_ids"] = 'C-"1";C-2'
    columns = {name: frame[name].to_numpy(dtype=str) if frame[name].dtype == object else frame[name].to_numpy()
               for name in frame.columns}

    arrow = canonical_json_column(columns)

    assert arrow.to_pylist() == [row.decode() for row in canonical_json_rows(columns)]
    rows = frame.to_dict(orient="records")
    assert hash_column(arrow).tobytes() == b"".join(record_hash(canonical_record(row)) for row in rows)
    assert asset_ids_of(columns["loan_id"]).tobytes() == b"".join(asset_id(row["loan_id"]) for row in rows)


def test_the_assets_root_commits_to_every_submitted_row(make_api, world):
    from api.orchestrator.submission.fields import SUBMITTED_ASSET_LEAF
    from chain.leaves import asset_id, record_hash
    from chain.merkle import StandardMerkleTree

    api = make_api(pipeline_threads=0)
    frame = pack_frame(25, seed=3012, financier="root")
    view = api.post("/v1/packs/csv", key="root", content=pack_csv(frame), headers=CSV).json()
    rows = loans(frame).to_dict(orient="records")
    expected = StandardMerkleTree.of([(asset_id(r["loan_id"]), record_hash(canonical_record(r))) for r in rows],
                                     SUBMITTED_ASSET_LEAF).root
    assert view["chain"]["assets_root"] == expected
    assert np.isclose(int(view["total_balance_minor"]), frame["outstanding_balance_minor"].sum())
