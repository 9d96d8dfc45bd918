#!/usr/bin/env python
"""Benchmark of the asset-pack pipeline: a 1,000,000-asset pack from submission to Committed on a
Hardhat node this script runs, with PostgreSQL, and its peers.

Prints JSON lines {"bench": "pack", "metric": ..., "value": ..., "unit": ...}:

- ``pack_pipeline_seconds``: POST of the CSV (streamed) until the pack is Committed on chain, with
  the time of each step (``steps``); setup (generating the pack, the bureau taking in the
  borrowers' records, training the model) is not counted;
- ``pack_transactions``: the transactions the pack took (target <= 10);
- the peer, measured in the same run on the same node: one anchoring transaction per asset
  (``ScoreRegistry.submitScoreBatch`` of one asset), its measured tx/s, and the extrapolated time
  and transaction count for the pack (``per_asset_anchor_*``);
- ``filter_seconds_1m`` and its naive peer: scripts/bench_filter.py, run as is.

The consortium, the model and the bureau are set up with the test helpers the integration tests
use (tests/chain/testbed.py, tests/api/support.py), so the bench measures the same code path.

Usage: scripts/bench pack [--assets N] [--database postgres|sqlite] [--peer-transactions N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "chain"), str(ROOT / "tests" / "api")]

import numpy as np  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from api.orchestrator.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from chain.backends import connect  # noqa: E402
from chain.node import HardhatNode, free_port  # noqa: E402
from support import PostgresSchema, api_key, loans, make_world, pack_frame, wait_for_pack  # noqa: E402
from testbed import build_consortium  # noqa: E402

PEER_GAS = 300_000


def emit(metric: str, value: float | int, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": "pack", "metric": metric, "value": value, "unit": unit, **extra}), flush=True)


def note(message: str) -> None:
    print(f"[bench pack] {message}", file=sys.stderr, flush=True)


def peer_tx_per_second(world, count: int) -> float:
    """One score anchored per transaction (the per-asset design), sent as fast as the node takes them."""
    scores = world.consortium.contract("ScoreRegistry")
    sender = world.consortium.sender("scorer")
    sender.resync_nonce()  # the pipeline sent from the same account through another Sender
    root = b"\x01" * 32
    calls = [scores.functions.submitScoreBatch(10**9 + i, 0, world.model_id, root, 1) for i in range(count)]
    started = time.perf_counter()
    sender.send_bulk(calls, gas=PEER_GAS)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--peer-transactions", type=int, default=2_000)
    parser.add_argument("--expected-bad-rate", default="0.05")
    parser.add_argument("--skip-filter-bench", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    node = HardhatNode(free_port(), var_dir=folder / "hardhat", interval_ms=0)
    schemas: list[PostgresSchema] = []
    node.start()
    try:
        if args.database == "postgres":
            schemas = [PostgresSchema("bench_orch"), PostgresSchema("bench_bureau")]
            database_url, bureau_url = schemas[0].url, schemas[1].url
        else:
            database_url, bureau_url = f"sqlite:///{folder / 'orch.db'}", f"sqlite:///{folder / 'bureau.db'}"
        consortium = build_consortium(connect(node.url))
        settings = Settings(database_url=database_url, chain_url=node.url, models_dir=folder / "models",
                            reports_dir=folder / "reports", pipeline_lease_seconds=600)
        note("training and registering the model")
        world = make_world(consortium, settings, folder / "models", bureau_url)
        note(f"generating {args.assets} assets")
        frame = pack_frame(args.assets, seed=424242, financier="bench")
        csv_path = folder / "pack.csv"
        loans(frame).to_csv(csv_path, index=False)
        note("the bureau takes in the borrowers' records")
        started = time.perf_counter()
        owing = np.flatnonzero(frame["outstanding_balance_minor"].to_numpy() > 0)
        world.seed(frame, missing_rows=owing[: args.assets // 1000], stale_rows=owing[-(args.assets // 1000):])
        emit("bureau_ingest_seconds_setup", round(time.perf_counter() - started, 2), "s")
        del frame

        app = create_app(settings, orchestrator=world.orchestrator(settings))
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {api_key(app.state.orchestrator, consortium, 'financier')}"}
            note("submitting")
            started = time.perf_counter()
            with csv_path.open("rb") as body:
                response = client.post(
                    f"/v1/packs/csv?expected_bad_rate={args.expected_bad_rate}&filter_mode=global", content=body,
                    headers={**headers, "Idempotency-Key": "bench", "Content-Type": "text/csv"})
            submit_seconds = time.perf_counter() - started
            if response.status_code != 202:
                raise SystemExit(f"submission refused: {response.status_code} {response.text[:2000]}")
            view = wait_for_pack(client, response.json()["id"], headers, timeout=3600)
            total = time.perf_counter() - started
            if view["status"] != "done":
                raise SystemExit(f"pack {view['id']} {view['status']}: {view['error']}")
            transactions = app.state.orchestrator.engine.connect().exec_driver_sql(
                f"SELECT count(*) FROM chain_tx WHERE pack_id = {int(view['id'])}").scalar_one()
        steps = {"upload_validate_store": round(submit_seconds, 3), **view["step_seconds"]}
        emit("pack_pipeline_seconds", round(total, 2), "s", assets=args.assets, steps=steps,
             database=args.database, removed=view["filter"]["removed_count"],
             excluded=view["credit"]["excluded_count"])
        emit("pack_transactions", transactions, "tx")

        note(f"peer: {args.peer_transactions} one-asset anchoring transactions")
        rate = peer_tx_per_second(world, args.peer_transactions)
        emit("per_asset_anchor_tx_per_s", round(rate, 1), "tx/s")
        emit("per_asset_anchor_transactions", args.assets, "tx")
        emit("per_asset_anchor_seconds_extrapolated", round(args.assets / rate, 1), "s")
    finally:
        node.stop()
        for schema in schemas:
            schema.close()
        shutil.rmtree(folder, ignore_errors=True)
    if not args.skip_filter_bench:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_filter.py")], check=True)


if __name__ == "__main__":
    main()
