"""The scheduler enrols a listed product and runs its cycle once the cycle's date has come, not before."""

from __future__ import annotations

from datetime import date, timedelta

from monitoring_support import issue_product, make_app

from api.monitoring.cycle import cycle_date
from api.monitoring.scheduler import tick


def test_a_tick_enrols_listed_products_and_runs_cycles_when_due(world, tmp_path):
    client, api = make_app(world, tmp_path)
    with client:
        issued = issue_product(api, world, n=300, seed=57)
        service = api.monitoring.service
        assert tick(service, today=date(2000, 1, 1)) == []  # enrols; nothing is due
        product = service.product(issued.product_id)
        first = cycle_date(product, 1)
        assert tick(service, today=first - timedelta(days=1)) == []
        assert tick(service, today=first) == [(issued.product_id, 1)]
        assert tick(service, today=first) == []  # cycle 2 is a month later
    assert service.product(issued.product_id).cycles_done == 1
    assert api.orchestrator.platform.contract("PackMonitor").functions.cycleCount(issued.chain_pack_id).call() == 1
