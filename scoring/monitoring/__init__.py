"""Post-issuance monitoring (claim 7): stability, trigger rules, backtests, asset swaps, reminders."""

from scoring.monitoring.backtest import BacktestRow, Exposure, backtest
from scoring.monitoring.reminders import Cadence, ReminderPlan, advance, due, escalate_to_weekly, next_due
from scoring.monitoring.replacement import Candidate, Holding, SwapDecision, SwapProblem, evaluate_swap
from scoring.monitoring.stability import (
    PSI_BANDS,
    StabilityResult,
    binned_counts,
    csi,
    psi,
    psi_band,
    psi_ppm,
    quantile_edges,
    score_psi,
)
from scoring.monitoring.triggers import (
    DEFAULT_RULES,
    AssetState,
    CycleFacts,
    Firing,
    TriggerConfigError,
    TriggerRule,
    evaluate,
    evidence_json,
    rules_from_config,
    rules_to_config,
)

__all__ = [
    "DEFAULT_RULES", "PSI_BANDS",
    "AssetState", "BacktestRow", "Cadence", "Candidate", "CycleFacts", "Exposure", "Firing", "Holding",
    "ReminderPlan", "StabilityResult", "SwapDecision", "SwapProblem", "TriggerConfigError", "TriggerRule",
    "advance", "backtest", "binned_counts", "csi", "due", "escalate_to_weekly", "evaluate", "evaluate_swap",
    "evidence_json", "next_due", "psi", "psi_band", "psi_ppm", "quantile_edges", "rules_from_config",
    "rules_to_config", "score_psi",
]
