#!/usr/bin/env python
"""Benchmark of StandardMerkleTree.of_columns over 1,000,000 pack leaves (target <= 4 s).

Leaf encoding ["bytes32", "uint256", "uint8", "uint256"] (asset id, balance, level, PD).
Prints JSON lines {"bench": "merkle", "metric": ..., "value": ..., "unit": ...}: the build
on every available core and, for comparison, on one.

Usage: .venv/bin/python scripts/bench_merkle.py [--leaves N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chain.merkle import StandardMerkleTree  # noqa: E402
from chain.merkle_hashing import default_workers  # noqa: E402

PACK_LEAF = ["bytes32", "uint256", "uint8", "uint256"]


def emit(metric: str, value: float | int | str, unit: str) -> None:
    print(json.dumps({"bench": "merkle", "metric": metric, "value": value, "unit": unit}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="report the fastest of this many builds")
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    columns = [
        rng.integers(0, 256, (args.leaves, 32), dtype=np.uint8),
        rng.integers(1, 10**12, args.leaves, dtype=np.int64),
        rng.integers(1, 11, args.leaves).astype(np.uint8),
        rng.integers(0, 10**6, args.leaves, dtype=np.int64),
    ]
    label = "1m" if args.leaves == 1_000_000 else str(args.leaves)
    roots = set()
    for workers, metric in ((default_workers(), f"build_seconds_{label}"), (1, f"build_seconds_{label}_one_core")):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            tree = StandardMerkleTree.of_columns(columns, PACK_LEAF, workers=workers)
            best = min(best, time.perf_counter() - started)
            roots.add(tree.root)
        emit(metric, round(best, 3), "s")
    emit("workers", default_workers(), "processes")
    emit("roots_agree", len(roots) == 1, "bool")


if __name__ == "__main__":
    main()
