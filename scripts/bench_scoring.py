#!/usr/bin/env python
"""Scoring throughput: a million generated assets from credit features to score, level and reasons.

Prints JSON lines {"bench": "scoring", "metric": ..., "value": ..., "unit": ...}, all
measured in this run on the same rows:

- score_assets_per_s: the points-table path the platform uses (searchsorted or hash
  lookup per feature, integer sums, levels, three reason codes); target 1M in <= 5 s;
- merkle_1m_seconds: `api.services.score_batches.score_tree` over those scores, from loan
  ids (keccak256 asset ids) to the root of the (asset id, score, level, model id) tree, the
  one a score batch commits on chain; target <= 4 s (`merkle_<N>_seconds` for other sizes);
- predict_proba_per_s: the peer, the same fitted model the plain way, optbinning's WoE
  transform per feature then LogisticRegression.predict_proba (no levels or reasons).

Each timing is the median of `--repeats` runs. Usage: scripts/bench_scoring.py [--assets N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.services.score_batches import score_tree  # noqa: E402
from chain.merkle_hashing import default_workers  # noqa: E402
from scoring.data.schema import CREDIT_FEATURES, TARGET  # noqa: E402
from scoring.data.synthetic import generate_history, generate_pack  # noqa: E402
from scoring.model.batch import score_assets  # noqa: E402
from scoring.model.scorecard import Scorecard  # noqa: E402


def emit(metric: str, value: float, unit: str) -> None:
    value = round(value, 3) if isinstance(value, float) else value
    print(json.dumps({"bench": "scoring", "metric": metric, "value": value, "unit": unit}), flush=True)


def median_seconds(action, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    history = generate_history(args.history, seed=args.seed)
    start = time.perf_counter()
    model = Scorecard().fit(history[list(CREDIT_FEATURES)], history[TARGET].to_numpy())
    emit("scorecard_fit_s", time.perf_counter() - start, "s")

    start = time.perf_counter()
    assets = generate_pack(args.assets, seed=args.seed + 1, financier="bench")
    emit("generate_pack_s", time.perf_counter() - start, "s")

    batch = score_assets(model, assets)
    reference = model.reference_predict_proba(assets)[:, 1]
    # Both paths describe the same model: the integer score ranks assets as the plain PD does.
    agreement = spearmanr(-batch.scores, reference).statistic
    emit("score_vs_predict_proba_rank_correlation", float(agreement), "spearman")

    scoring_s = median_seconds(lambda: score_assets(model, assets), args.repeats)
    emit("score_assets_s", scoring_s, "s")
    emit("score_assets_per_s", args.assets / scoring_s, "assets/s")
    proba_s = median_seconds(lambda: model.reference_predict_proba(assets), args.repeats)
    emit("predict_proba_s", proba_s, "s")
    emit("predict_proba_per_s", args.assets / proba_s, "assets/s")

    loan_ids = assets["loan_id"].tolist()
    roots = set()

    def build_tree() -> None:
        roots.add(score_tree(loan_ids, batch.scores, batch.levels, model_id=1).root)

    label = "1m" if args.assets == 1_000_000 else str(args.assets)
    emit(f"merkle_{label}_seconds", median_seconds(build_tree, args.repeats), "s")
    emit("merkle_roots_agree", len(roots) == 1, "bool")
    emit("workers", default_workers(), "processes")


if __name__ == "__main__":
    main()
