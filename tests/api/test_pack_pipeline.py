"""A pack through the whole pipeline on the embedded chain, in both filter modes, via the API.

What a user would check: the pack reaches Committed on chain; what the chain holds (counts,
balances, roots, rates, model) is what the API reports; every asset's fate is provable on chain
(kept and removed with ``AssetPack.verifyAsset``, excluded against the credit check's root);
the report, its charts and the CSV exports are there.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction

import numpy as np
import pytest

from api.orchestrator.pipeline.chain_sync import PackState
from chain.leaves import EXCLUDED_LEAF, from_hex32
from chain.merkle import StandardMerkleTree
from support import pack_csv, pack_frame


def submit(api, world, *, seed: int, count: int = 400, mode: str = "global", rate: str = "0.05",
           weight_by: str = "balance") -> dict:
    frame = pack_frame(count, seed=seed, financier=f"p{seed}")
    owing = np.flatnonzero(frame["outstanding_balance_minor"].to_numpy() > 0)  # repaid loans are excluded anyway
    world.seed(frame, missing_rows=owing[[1, 5, 9]], stale_rows=owing[[2, 4]])
    response = api.post(f"/v1/packs/csv?expected_bad_rate={rate}&filter_mode={mode}&weight_by={weight_by}",
                        key=f"pack-{seed}", content=pack_csv(frame), headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    return api.wait(response.json()["id"])


def verify_every_asset_on_chain(api, world, view: dict) -> dict[str, int]:
    """Fetch every asset's proof from the API and check it against the chain; returns outcome counts."""
    asset_pack = world.consortium.contract("AssetPack")
    chain_id = view["chain"]["pack_id"]
    excluded_root = "0x" + asset_pack.functions.creditCheck(chain_id).call()[0].hex()
    seen = {"kept": 0, "removed": 0, "excluded": 0}
    page = api.get(f"/v1/packs/{view['id']}/assets", params={"limit": 1000}).json()
    assert page["total"] == view["asset_count"]
    for asset in page["assets"]:
        proof = api.get(f"/v1/packs/{view['id']}/assets/{asset['loan_id']}/proof").json()
        seen[proof["outcome"]] += 1
        if proof["outcome"] == "excluded":
            assert proof["root"] == excluded_root
            assert StandardMerkleTree.verify(excluded_root, EXCLUDED_LEAF, proof["leaf"], proof["proof"])
            continue
        args = proof["verify"]["args"]
        kept = proof["outcome"] == "kept"
        call = asset_pack.functions.verifyAsset(args[0], kept, from_hex32(args[2]), from_hex32(args[3]), args[4],
                                                args[5], [from_hex32(node) for node in args[6]])
        assert call.call() is True, asset["loan_id"]
        # and the same proof does not pass as the other outcome, nor with a forged score
        assert asset_pack.functions.verifyAsset(args[0], not kept, from_hex32(args[2]), from_hex32(args[3]),
                                                args[4], args[5], [from_hex32(n) for n in args[6]]).call() is False
        forged = 1 + args[4] % 100
        assert asset_pack.functions.verifyAsset(args[0], kept, from_hex32(args[2]), from_hex32(args[3]), forged,
                                                args[5], [from_hex32(n) for n in args[6]]).call() is False
    return seen


@pytest.mark.parametrize("mode", ["global", "per-level"])
def test_a_pack_is_committed_on_chain_and_every_asset_is_provable(api, world, mode):
    view = submit(api, world, seed=2100 + (mode == "per-level"), mode=mode, rate="0.045" if mode == "global" else "0.05")
    assert view["status"] == "done", view["error"]
    assert (view["step"], view["progress_pct"], view["chain"]["state"]) == ("committed", 100, "Committed")

    asset_pack = world.consortium.contract("AssetPack")
    chain_id = view["chain"]["pack_id"]
    on_chain = asset_pack.functions.pack(chain_id).call()
    assert PackState(on_chain[6]) is PackState.COMMITTED
    assert on_chain[0] == world.consortium.address("financier")
    assert (on_chain[3], on_chain[4], on_chain[5]) == (400, int(view["total_balance_minor"]), view["expected_bad_rate_ppm"])

    credit = view["credit"]
    assert credit["excluded_by_reason"].get("no_record") == 3 and credit["excluded_by_reason"].get("stale") == 2
    plan = view["filter"]
    mode_id, weight_id, kept_root, removed_root, kept_n, removed_n, kept_bal, removed_bal, before, after = (
        asset_pack.functions.filterResult(chain_id).call())
    assert (mode_id, weight_id) == (0 if mode == "global" else 1, 1)
    assert ("0x" + kept_root.hex(), "0x" + removed_root.hex()) == (plan["kept_root"], plan["removed_root"])
    assert (kept_n, removed_n) == (plan["kept_count"], plan["removed_count"])
    assert kept_n + removed_n == credit["eligible_count"]
    assert (kept_bal, removed_bal) == (int(plan["kept_balance"]), int(plan["removed_balance"]))
    assert (before, after) == (plan["chain_bad_rate_before_ppm"], plan["chain_bad_rate_after_ppm"])
    assert after <= view["expected_bad_rate_ppm"] < before, "the pack needed filtering and now meets its target"
    judged = plan["after"]["level_based" if mode == "global" else "pd_based"]["exact"]
    assert Fraction(judged) <= Fraction(view["expected_bad_rate_ppm"], 1_000_000)
    assert asset_pack.functions.grade(chain_id).call()[1] == view["chain"]["model_id"] == world.model_id

    seen = verify_every_asset_on_chain(api, world, view)
    assert seen == {"kept": kept_n, "removed": removed_n, "excluded": credit["excluded_count"]}


def test_the_report_has_both_estimates_charts_and_exports(api, world):
    view = submit(api, world, seed=2200, mode="global", rate="0.045")
    pack_id = view["id"]
    report = api.get(f"/v1/packs/{pack_id}/report").json()
    assert set(report["filter"]["before"]) == {"level_based", "pd_based"}
    assert report["filter"]["curve"][0]["removed_count"] == 0
    assert any(p["removed_count"] == view["filter"]["removed_count"] for p in report["filter"]["curve"])
    assert len(report["filter"]["level_mix"]) == 10
    assert report["removed_assets"]["count"] == view["filter"]["removed_count"]
    assert [a["removal_rank"] for a in report["removed_assets"]["listed"]] == sorted(
        a["removal_rank"] for a in report["removed_assets"]["listed"])
    assert {a["reason"] for a in report["excluded_assets"]["listed"]} >= {"excluded before scoring: no_record",
                                                                         "excluded before scoring: stale"}
    steps = [tx["step"] for tx in report["transactions"]]
    assert steps == ["submitted", "credit_checked", "score_batch", "scored", "graded", "filtered", "committed"]

    html = api.get(f"/v1/packs/{pack_id}/report.html")
    assert html.status_code == 200 and "<svg" in html.text and "Removed assets" in html.text
    for chart in ("bad_rate_curve", "level_mix", "removals"):
        png = api.get(f"/v1/packs/{pack_id}/charts/{chart}.png")
        svg = api.get(f"/v1/packs/{pack_id}/charts/{chart}.svg")
        assert png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
        assert b"<svg" in svg.content
    counts = {}
    for outcome in ("kept", "removed", "excluded"):
        response = api.get(f"/v1/packs/{pack_id}/export/{outcome}.csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {row["outcome"] for row in rows} <= {outcome}
        counts[outcome] = len(rows)
    assert counts == {"kept": view["filter"]["kept_count"], "removed": view["filter"]["removed_count"],
                      "excluded": view["credit"]["excluded_count"]}


def test_a_pack_already_within_its_target_is_committed_whole(api, world):
    view = submit(api, world, seed=2300, rate="0.5")
    assert view["status"] == "done"
    assert view["filter"]["removed_count"] == 0
    assert view["filter"]["removed_root"] == "0x" + "00" * 32
    assert view["filter"]["chain_bad_rate_after_ppm"] == view["filter"]["chain_bad_rate_before_ppm"]
