#!/usr/bin/env python
"""Benchmark of the pack core: grading + both filter modes on 1,000,000 synthetic assets.

Prints one JSON line per measurement: {"bench": "pack", "metric": ..., "value": ..., "unit": ...}.
`filter_seconds_1m` (target <= 1 s) covers checking the columns, grading and both modes;
its peer `naive_filter_seconds_10k` removes one asset at a time and recomputes the
pack's bad rate from scratch on a 10,000-asset sample, and must reach the same cut.

Usage: .venv/bin/python scripts/bench_filter.py [--assets N] [--naive-assets N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.bad_rate import WeightBy, estimate_pack  # noqa: E402
from scoring.filtering import FilterMode, filter_to_expected_bad_rate  # noqa: E402
from scoring.grading import PPM, LevelTable, level_table_from_history  # noqa: E402
from scoring.pack_assets import PackAssets  # noqa: E402


def emit(metric: str, value: float | int | bool, unit: str) -> None:
    print(json.dumps({"bench": "pack", "metric": metric, "value": value, "unit": unit}), flush=True)


def synthetic_columns(count: int, seed: int) -> dict[str, np.ndarray]:
    """Scores around 60, PD falling with the score, log-normal balances (minor units)."""
    rng = np.random.default_rng(seed)
    score = np.clip(np.rint(rng.normal(60, 18, count)), 1, 100).astype(np.int64)
    logit = (35 - score) / 9 + rng.normal(0, 0.6, count)
    pd_ppm = np.clip(np.rint(PPM / (1 + np.exp(-logit))), 1, PPM - 1).astype(np.int64)
    balance = np.clip(np.rint(rng.lognormal(15.4, 1.1, count)), 1, 10**12).astype(np.int64)
    loan_id = np.char.add("PK-", np.char.zfill(rng.permutation(count).astype(str), 8))
    return {"loan_id": loan_id, "score": score, "pd_ppm": pd_ppm, "balance": balance}


def historical_table(seed: int) -> LevelTable:
    """Level bad rates from 200,000 synthetic historical loans that defaulted with their PD."""
    history = synthetic_columns(200_000, seed)
    defaulted = np.random.default_rng(seed + 1).random(200_000) < history["pd_ppm"] / PPM
    return level_table_from_history(history["score"], defaulted)


def naive_global_cut(pack: PackAssets, table: LevelTable, target: int, weight_by: WeightBy) -> int:
    """Remove the riskiest asset, recompute the whole pack's bad rate, repeat: O(n^2)."""
    levels = pack.levels(table.edges)
    order = pack.risk_order
    for removed in range(len(pack)):
        kept = np.sort(order[removed:])
        estimate = estimate_pack(levels[kept], pack.pd_ppm[kept], pack.balance[kept], table, weight_by)
        if estimate.level_based.meets(target):
            return removed
    raise RuntimeError("target unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--naive-assets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="report the fastest of this many runs")
    args = parser.parse_args()

    table = historical_table(seed=7)
    columns = synthetic_columns(args.assets, seed=11)
    weight_by = WeightBy.BALANCE
    probe = PackAssets.from_columns(**columns)
    before = estimate_pack(probe.levels(table.edges), probe.pd_ppm, probe.balance, table, weight_by)
    global_target = before.level_based.ppm * 6 // 10
    per_level_target = before.pd_based.ppm * 8 // 10

    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        pack = PackAssets.from_columns(**columns)
        pack.levels(table.edges)
        graded = time.perf_counter()
        global_plan = filter_to_expected_bad_rate(pack, table, global_target, FilterMode.GLOBAL, weight_by)
        global_done = time.perf_counter()
        per_level_plan = filter_to_expected_bad_rate(pack, table, per_level_target, FilterMode.PER_LEVEL, weight_by)
        finished = time.perf_counter()
        timings.append((finished - started, graded - started, global_done - graded, finished - global_done))
    total, grading, global_seconds, per_level_seconds = min(timings)
    emit("filter_seconds_1m" if args.assets == 1_000_000 else f"filter_seconds_{args.assets}", round(total, 3), "s")
    emit("grading_seconds", round(grading, 3), "s")
    emit("global_filter_seconds", round(global_seconds, 3), "s")
    emit("per_level_filter_seconds", round(per_level_seconds, 3), "s")
    emit("global_share_removed_ppm", global_plan.share_removed_ppm, "ppm")
    emit("global_bad_rate_after_ppm", global_plan.after.level_based.ppm, "ppm")
    emit("per_level_share_removed_ppm", per_level_plan.share_removed_ppm, "ppm")
    emit("per_level_pd_rate_after_ppm", per_level_plan.after.pd_based.ppm, "ppm")

    sample = PackAssets.from_columns(**{name: column[: args.naive_assets] for name, column in columns.items()})
    sample_before = estimate_pack(sample.levels(table.edges), sample.pd_ppm, sample.balance, table, weight_by)
    sample_target = sample_before.level_based.ppm * 6 // 10
    started = time.perf_counter()
    naive_cut = naive_global_cut(sample, table, sample_target, weight_by)
    naive_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fast_cut = filter_to_expected_bad_rate(sample, table, sample_target, FilterMode.GLOBAL, weight_by).removed_count
    fast_seconds = time.perf_counter() - started
    emit(f"naive_filter_seconds_{args.naive_assets // 1000}k", round(naive_seconds, 3), "s")
    emit(f"fast_filter_seconds_{args.naive_assets // 1000}k", round(fast_seconds, 4), "s")
    emit("naive_and_fast_cuts_agree", naive_cut == fast_cut, "bool")


if __name__ == "__main__":
    main()
