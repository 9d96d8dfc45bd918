"""A cycle's findings from its holdings: level mix, bad rates, stability and the backtest.

Pure over its inputs (frames and the model's level table); the cycle stores what it returns.
The current bad rate is the patent's level-based estimate over the live assets at their new
levels, weighted as the pack was (count or balance). The realised bad rate is cumulative: the
loans that defaulted since issuance over all loans ever in the pool, by count.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from scoring.bad_rate import WeightBy, level_based_bad_rate, level_mix, ppm_half_up
from scoring.grading import LevelTable
from scoring.monitoring.backtest import Exposure, backtest
from scoring.monitoring.baseline import Baseline, feature_stability, score_stability
from scoring.monitoring.stability import psi_ppm

UINT32_MAX = 2**32 - 1


def exposures(holdings: pd.DataFrame) -> list[Exposure]:
    out = []
    for row in holdings.itertuples(index=False):
        ended = row.status_cycle if row.status_cycle is not None and not pd.isna(row.status_cycle) else None
        out.append(Exposure(
            loan_id=row.loan_id, vintage=row.vintage, pd_ppm=int(row.entry_pd_ppm), balance_minor=int(row.balance_minor),
            defaulted_cycle=int(ended) if row.status == "defaulted" and ended is not None else None,
            prepaid_cycle=int(ended) if row.status in ("prepaid", "matured", "replaced") and ended is not None else None,
            entered_cycle=int(row.entry_cycle),
        ))
    return out


def assess(*, cycle: int, holdings: pd.DataFrame, live: pd.DataFrame, records: pd.DataFrame, table: LevelTable,
           weight_by: str, expected_bad_rate_ppm: int, baseline: Baseline) -> dict:
    levels = live["level"].to_numpy(dtype=np.int64)
    balances = live["balance_minor"].to_numpy(dtype=np.int64)
    mix = level_mix(levels, balances, table.level_count)
    rate = level_based_bad_rate(mix, table, WeightBy(weight_by))
    ever = int((holdings["entry_cycle"] <= cycle).sum())
    defaulted = int((holdings["status"] == "defaulted").sum())
    realised = ppm_half_up(Fraction(defaulted, ever)) if ever else 0
    score = score_stability(baseline, live["score"].to_numpy(dtype=np.int64))
    features = feature_stability(baseline, records) if len(records) else {}
    history = exposures(holdings)
    by_product = backtest(history, cycles_elapsed=cycle, group_by="all")
    by_vintage = backtest(history, cycles_elapsed=cycle, group_by="vintage")
    return {
        "live_count": int(levels.size),
        "live_balance_minor": int(balances.sum()),
        "level_counts": [int(c) for c in mix.counts],
        "level_balances": [int(b) for b in mix.balances],
        "bad_rate_ppm": rate.ppm,
        "expected_bad_rate_ppm": expected_bad_rate_ppm,
        "weight_by": weight_by,
        "realised_bad_rate_ppm": realised,
        "defaulted_count": defaulted,
        "prepaid_count": int((holdings["status"] == "prepaid").sum()),
        "psi": round(score.value, 6),
        "psi_ppm": min(psi_ppm(score.value), UINT32_MAX),
        "psi_band": score.band,
        "csi": {name: {"value": round(r.value, 6), "band": r.band} for name, r in sorted(features.items())},
        "backtest": {"product": [row.__dict__ for row in by_product], "vintage": [row.__dict__ for row in by_vintage]},
    }


def cycle_report(summary: dict, score_batch_id: int) -> tuple:
    """``IPackMonitor.CycleReport`` of a stored summary."""
    return (
        score_batch_id, summary["level_counts"], summary["level_balances"], summary["bad_rate_ppm"],
        summary["expected_bad_rate_ppm"], summary["realised_bad_rate_ppm"], summary["psi_ppm"], summary["live_count"],
        summary["live_balance_minor"],
    )
