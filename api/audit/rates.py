"""Claims 5, 6 and 1 again, from the bundle's scores and the registered model's level table: the
level mix, the level-based bad rates and the filter, compared with what the pack committed.

The level-based rates use only committed values (scores and levels are proven against the score
root, the level table is the model's on chain), so they are checked exactly. The filter is run
again in the committed mode and weighting: it is deterministic, so the kept set must come out
the same. Per-level mode is judged by the PD-based estimate, from the bundle's PDs, which the
chain does not commit; the rest of the plan is still checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chain.audit.findings import Finding, mismatch
from chain.audit.pack_checks import EXCLUDED, KEPT, AssetRow
from chain.audit.pack_facts import ModelFacts, PackFacts
from scoring.bad_rate import WeightBy, estimate_pack
from scoring.errors import ScoringError
from scoring.filtering import FilterMode, FilterPlan, filter_to_expected_bad_rate
from scoring.grading import LevelEdges, LevelTable
from scoring.pack_assets import PackAssets

MODES = {0: FilterMode.GLOBAL, 1: FilterMode.PER_LEVEL}
WEIGHTS = {0: WeightBy.COUNT, 1: WeightBy.BALANCE}


def level_table(model: ModelFacts) -> LevelTable:
    return LevelTable(LevelEdges(tuple(model.upper_edges)), tuple(model.level_bad_rates_ppm))


def check_rates(facts: PackFacts, model: ModelFacts, rows: Sequence[AssetRow]) -> list[Finding]:
    scored = [r for r in rows if r.outcome != EXCLUDED and r.score is not None and r.level is not None]
    subject = f"pack {facts.pack_id}"
    if not scored:
        return [Finding("bad-rate", subject, "scored assets", facts.eligible_count, 0, "nothing to recompute from")]
    table = level_table(model)
    levels = np.array([r.level for r in scored], dtype=np.int64)
    balances = np.array([r.balance for r in scored], dtype=np.int64)
    pd = np.array([r.pd_ppm or 0 for r in scored], dtype=np.int64)
    try:
        by = {w: estimate_pack(levels, pd, balances, table, w) for w in WeightBy}
    except ScoringError as exc:
        return [Finding("bad-rate", subject, "grade", "a gradable pack", str(exc))]
    mix = by[WeightBy.COUNT].mix
    found = [*mismatch("grade", subject, "level_counts", list(facts.level_counts), list(mix.counts)),
             *mismatch("grade", subject, "level_balances", list(facts.level_balances), list(mix.balances)),
             *mismatch("bad-rate", subject, "bad_rate_by_count_ppm", facts.bad_rate_by_count_ppm,
                       by[WeightBy.COUNT].level_based.ppm, "claim 6 over the model's level table"),
             *mismatch("bad-rate", subject, "bad_rate_by_balance_ppm", facts.bad_rate_by_balance_ppm,
                       by[WeightBy.BALANCE].level_based.ppm, "claim 6 over the model's level table")]
    return found + check_filter(facts, table, scored)


def rerun_filter(facts: PackFacts, table: LevelTable, scored: Sequence[AssetRow]) -> set[str] | None:
    """The loan ids the committed mode and weighting keep, or None if the filter cannot be rerun."""
    plan = _plan(facts, table, scored)
    return None if isinstance(plan, Finding) else {scored[i].loan_id for i in plan.kept_indices.tolist()}


def _plan(facts: PackFacts, table: LevelTable, scored: Sequence[AssetRow]) -> FilterPlan | Finding:
    subject = f"pack {facts.pack_id}"
    mode, weight_by = MODES.get(facts.filter_mode), WEIGHTS.get(facts.weight_by)
    if mode is None or weight_by is None:
        return Finding("filter", subject, "mode", "global/per-level by count/balance",
                       (facts.filter_mode, facts.weight_by))
    if not scored or any(r.pd_ppm is None or r.score is None for r in scored):
        return Finding("filter", subject, "pd_ppm", "a score and PD per scored asset", None,
                       "the filter cannot be rerun")
    assets = PackAssets.from_columns(np.array([r.loan_id for r in scored], dtype=object),
                                     np.array([r.score for r in scored], dtype=np.int64),
                                     np.array([r.pd_ppm for r in scored], dtype=np.int64),
                                     np.array([r.balance for r in scored], dtype=np.int64))
    try:
        return filter_to_expected_bad_rate(assets, table, facts.expected_bad_rate_ppm, mode, weight_by)
    except ScoringError as exc:
        return Finding("filter", subject, "plan", "a reachable target", str(exc))


def check_filter(facts: PackFacts, table: LevelTable, scored: Sequence[AssetRow]) -> list[Finding]:
    plan = _plan(facts, table, scored)
    if isinstance(plan, Finding):
        return [plan]
    subject = f"pack {facts.pack_id}"
    found = [*mismatch("filter", subject, "bad_rate_before_ppm", facts.bad_rate_before_ppm,
                       plan.before.level_based.ppm),
             *mismatch("filter", subject, "bad_rate_after_ppm", facts.bad_rate_after_ppm,
                       plan.judged_rate(plan.after).ppm, f"judged by the {plan.judged_by.value} estimate")]
    if facts.bad_rate_after_ppm > facts.expected_bad_rate_ppm:
        found.append(Finding("filter", subject, "bad_rate_after_ppm", f"<= {facts.expected_bad_rate_ppm}",
                             facts.bad_rate_after_ppm, "the committed rate misses the target"))
    kept = {scored[i].loan_id for i in plan.kept_indices.tolist()}
    for row in scored:
        if (row.loan_id in kept) != (row.outcome == KEPT):
            found.append(Finding("filter", row.subject, "outcome", "kept" if row.loan_id in kept else "removed",
                                 row.outcome, f"the {plan.mode.value} filter to {facts.expected_bad_rate_ppm} ppm "
                                              "decides otherwise"))
    return found
