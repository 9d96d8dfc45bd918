"""An expected bad rate the pack cannot reach: a clear error with the best achievable rate, not an
empty pack; the owner can plan the filter again in the other mode, or withdraw."""

from __future__ import annotations

from support import pack_csv, pack_frame

CSV = {"Content-Type": "text/csv"}


def submit(api, world, seed: int, rate: str, mode: str) -> dict:
    frame = pack_frame(300, seed=seed, financier=f"u{seed}")
    world.seed(frame)
    response = api.post(f"/v1/packs/csv?expected_bad_rate={rate}&filter_mode={mode}", key=f"u{seed}",
                        content=pack_csv(frame), headers=CSV)
    assert response.status_code == 202
    return api.wait(response.json()["id"])


def test_an_unreachable_target_fails_the_pack_with_the_best_achievable_rate(api, world):
    view = submit(api, world, 6001, rate="0.001", mode="global")
    assert (view["status"], view["step"], view["chain"]["state"]) == ("failed", "graded", "Graded")
    error = view["error"]
    assert error["error"] == "unreachable_target"
    assert error["expected_bad_rate_ppm"] == 1000 < error["best_bad_rate_ppm"]
    assert 0 < error["best_removed_count"] < view["credit"]["eligible_count"], "the best keeps some assets"
    assert view["filter"] is None
    # the same through the other mode: a synchronous 422 carrying the best rate, and nothing changes
    response = api.post(f"/v1/packs/{view['id']}/filter", json={"filter_mode": "per-level"})
    assert response.status_code == 422
    assert response.json()["details"]["best_bad_rate_ppm"] > 1000
    again = api.get(f"/v1/packs/{view['id']}").json()
    assert (again["status"], again["filter_mode"]) == ("failed", "global")
    assert api.post(f"/v1/packs/{view['id']}/withdraw").json()["status"] == "withdrawn"


def test_a_target_unreachable_per_level_is_met_by_refiltering_globally(api, world):
    view = submit(api, world, 6002, rate="0.007", mode="per-level")
    assert view["status"] == "failed" and view["error"]["error"] == "unreachable_target", view["error"]
    response = api.post(f"/v1/packs/{view['id']}/filter", json={"filter_mode": "global"})
    assert response.status_code == 202, response.text
    done = api.wait(view["id"])
    assert (done["status"], done["chain"]["state"], done["filter_mode"]) == ("done", "Committed", "global")
    assert done["filter"]["chain_bad_rate_after_ppm"] <= 7_000
    asset_pack = world.consortium.contract("AssetPack")
    assert asset_pack.functions.filterResult(done["chain"]["pack_id"]).call()[0] == 0  # FilterMode.Global


def test_only_a_failed_pack_is_resumed_and_only_a_graded_one_refiltered(api, world):
    view = submit(api, world, 6003, rate="0.5", mode="global")
    assert view["status"] == "done"
    assert api.post(f"/v1/packs/{view['id']}/resume").status_code == 409
    assert api.post(f"/v1/packs/{view['id']}/filter", json={"filter_mode": "global"}).status_code == 409
