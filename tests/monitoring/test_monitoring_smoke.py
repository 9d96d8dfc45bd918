from __future__ import annotations

from monitoring_support import issue_product, make_app, simulate


def test_two_cycles_record_on_chain(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=600, seed=41)
        first = simulate(api, issued)
        second = simulate(api, issued)
    assert (first["cycle"], second["cycle"]) == (1, 2)
    monitor = api.orchestrator.platform.contract("PackMonitor")
    assert monitor.functions.cycleCount(issued.chain_pack_id).call() == 2
