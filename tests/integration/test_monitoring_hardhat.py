"""Twelve monthly cycles of a 10,000-asset product on the real Hardhat node with PostgreSQL.

The product is made as the platform makes it (pack through the pipeline to Committed, product
registered by the financier and listed by the exchange on chain), then its synthetic world runs
a year: every month the bureau commits fresh records, the servicer reports defaults and
prepayments, and a monitoring cycle rescoring every live asset writes its score batch and report
on chain. A regional shock from month 7 must trip the levels 1-3 rule in month 7, not before.

The node's clock is moved a month per cycle, so the test runs between a snapshot and a revert.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "monitoring"))

from monitoring_support import issue_product, level_share, make_app, simulate  # noqa: E402
from support import PostgresSchema, make_world  # noqa: E402

from api.monitoring.chain_port import rule_key  # noqa: E402

pytestmark = pytest.mark.integration

ASSETS = 10_000
SHOCK = {"region": "east", "stress_multiplier": 8.0, "from_cycle": 7}


def test_twelve_cycles_of_a_10k_product_on_hardhat(node_state, tmp_path):
    orchestrator_db, bureau_db = PostgresSchema("morch"), PostgresSchema("mbur")
    try:
        from api.settings import Settings

        settings = Settings(database_url=orchestrator_db.url, chain_url="unused", models_dir=tmp_path / "models")
        world = make_world(node_state, settings, tmp_path / "models", bureau_db.url)
        client, api = make_app(world, tmp_path, database_url=orchestrator_db.url)
        with client:
            started = time.perf_counter()
            issued = issue_product(api, world, n=ASSETS, seed=8101, expected="0.06")
            issued_at = time.perf_counter()
            cycles = [simulate(api, issued, shock=SHOCK if k == 0 else None) for k in range(12)]
            finished = time.perf_counter()
            status = api.get(f"/v1/monitoring/products/{issued.product_id}", as_="investor").json()
        print(f"\n10k product issued in {issued_at - started:.1f} s; 12 cycles in {finished - issued_at:.1f} s")
        monitor = node_state.contract("PackMonitor")
        scores = node_state.contract("ScoreRegistry")
        pack = issued.chain_pack_id
        assert monitor.functions.cycleCount(pack).call() == 12
        assert node_state.contract("AssetPack").functions.pack(pack).call()[6] == 8  # Monitoring
        for cycle in cycles:
            report, _ = monitor.functions.cycle(pack, cycle["cycle"]).call()
            batch = scores.functions.batch(report[0]).call()
            assert (list(report[1]), report[7]) == (cycle["level_counts"], cycle["live_count"])
            assert (batch[0], batch[1], batch[4]) == (pack, cycle["cycle"], cycle["live_count"])
        fired = [monitor.functions.triggerFired(pack, c, rule_key("risky_levels")).call() for c in range(1, 13)]
        assert fired[:6] == [False] * 6 and fired[6]
        assert level_share(cycles[5]) <= 0.10 < level_share(cycles[6])
        assert cycles[0]["live_count"] > 6_000 and cycles[-1]["live_count"] < cycles[0]["live_count"]
        assert status["cycles_done"] == 12 and status["status"] in ("measures_open", "escalated")
    finally:
        orchestrator_db.close()
        bureau_db.close()
