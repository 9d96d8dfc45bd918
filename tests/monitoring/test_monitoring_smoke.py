from __future__ import annotations

from monitoring_support import issue_product, make_app, simulate


def test_two_cycles_record_on_chain_and_the_pack_becomes_visible_to_investors(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=600, seed=41)
        hidden = api.get(f"/v1/packs/{issued.pack_id}", as_="investor")
        first = simulate(api, issued)
        second = simulate(api, issued)
        shown = api.get(f"/v1/packs/{issued.pack_id}", as_="investor")
    assert (first["cycle"], second["cycle"]) == (1, 2)
    monitor = api.orchestrator.platform.contract("PackMonitor")
    assert monitor.functions.cycleCount(issued.chain_pack_id).call() == 2
    assert api.orchestrator.platform.contract("AssetPack").functions.pack(issued.chain_pack_id).call()[6] == 8
    assert hidden.status_code == 404 and shown.status_code == 200  # a monitored pack is an issued one
    assert shown.json()["chain"]["state"] == "Monitoring"
