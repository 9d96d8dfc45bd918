"""The pure part of every pipeline step: from a pack's columns to the result the step stores.

Nothing here touches the database or the chain (cosmicpython's functional core): the runner
stores each result, then makes the step's chain transition from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chain.leaves import EXCLUDED_LEAF, PACK_ASSET_LEAF, from_hex32
from chain.merkle import StandardMerkleTree
from chain.merkle_hashing import keccak256
from scoring.bad_rate import BadRate, PackEstimate, WeightBy, estimate_pack
from scoring.filtering import Estimate, FilterMode, FilterPlan
from scoring.grading import LevelTable

if TYPE_CHECKING:
    from api.services.credit_check import CreditColumns

ZERO_ROOT = "0x" + "00" * 32
PPM = 1_000_000
STEPS = ("submitted", "credit_checked", "scored", "graded", "filtered", "committed")
# Percent done once a step's chain transition is made (the heavy steps get the wide bands).
PROGRESS = {"submitted": 5, "credit_checked": 30, "scored": 60, "graded": 70, "filtered": 90, "committed": 100}


@dataclass(frozen=True)
class PackColumns:
    """What the pipeline reads of a pack's assets, in row order."""

    row_no: np.ndarray  # int64, 1-based
    loan_id: np.ndarray  # str
    borrower_id: np.ndarray  # str
    balance: np.ndarray  # int64, outstanding balance in minor units
    asset_id: np.ndarray  # (n, 32) uint8
    record_hash: np.ndarray  # (n, 32) uint8

    def __len__(self) -> int:
        return int(self.row_no.size)


# ---------------------------------------------------------------- credit check


@dataclass(frozen=True)
class CreditOutcome:
    eligible: np.ndarray  # bool per asset
    reason: np.ndarray  # object per asset: why it is excluded (None if eligible)
    weight_ppm: np.ndarray  # int64
    credit_batch_id: np.ndarray  # object per asset: the verified record's batch id, or None
    record_date: np.ndarray  # datetime64[D] per asset: the verified record's date, or NaT
    salted_hash: np.ma.MaskedArray  # (n, 32) uint8 per asset: the verified record's leaf value, masked if none
    credit_row: np.ndarray  # int64 per asset: its borrower's row in the credit check (-1: not looked up)
    excluded_root: str
    credit_batch_for_pack: int | None  # the newest bureau batch an eligible asset relied on

    @property
    def eligible_count(self) -> int:
        return int(self.eligible.sum())

    def summary(self) -> dict:
        reasons = pd.Series(self.reason[~self.eligible], dtype=object).value_counts()
        downweighted = int(((self.weight_ppm < PPM) & self.eligible).sum())
        return {
            "eligible_count": self.eligible_count,
            "excluded_count": int((~self.eligible).sum()),
            "excluded_by_reason": {str(reason): int(count) for reason, count in sorted(reasons.items(),
                                                                                         key=lambda item: str(item[0]))},
            "downweighted_count": downweighted,
            "excluded_root": self.excluded_root,
            "credit_batch_id": self.credit_batch_for_pack,
        }


REPAID = "repaid"  # outstanding balance 0: nothing to securitise, so never scored


def credit_borrowers(columns: PackColumns) -> list[str]:
    """The distinct borrowers the credit check looks up, in first-seen order (repaid loans need none)."""
    return borrowers_to_check(columns.borrower_id, columns.balance)


def borrowers_to_check(borrower_id: np.ndarray, balance: np.ndarray) -> list[str]:
    return pd.unique(borrower_id[balance > 0]).tolist()


def credit_outcome(columns: PackColumns, credit: CreditColumns) -> CreditOutcome:
    """Per asset: may it be scored, and if not why; plus the root of the excluded assets.

    Excluded before scoring: a borrower without a verified, fresh record (the bureau's reason),
    and a repaid loan (reason ``repaid``), which has no balance to weigh in the bad rate (its
    borrower need not even be looked up: ``credit`` may lack it).
    """
    repaid = columns.balance <= 0
    position = credit.positions(columns.borrower_id)
    if ((position < 0) & ~repaid).any():
        missing = columns.borrower_id[(position < 0) & ~repaid][0]
        raise ValueError(f"the credit check did not cover borrower {missing!r}")
    at = np.where(position >= 0, position, 0)
    checked = ~repaid
    eligible = checked & credit.eligible[at]
    verified = checked & credit.verified[at]
    reason = np.where(repaid, REPAID, credit.reason[at])
    reason = np.where(eligible, None, np.where(reason == None, "ineligible", reason))
    root = ZERO_ROOT
    excluded = np.flatnonzero(~eligible)
    if excluded.size:
        codes, names = pd.factorize(pd.Series(reason[excluded], dtype=object))
        ids = np.frombuffer(b"".join(keccak256(str(name).encode()) for name in names), dtype=np.uint8).reshape(-1, 32)
        root = StandardMerkleTree.of_columns([columns.asset_id[excluded], ids[codes]], EXCLUDED_LEAF).root
    batch = credit.credit_batch_id[at]
    used = batch[eligible & verified]
    return CreditOutcome(
        eligible=eligible,
        reason=reason,
        weight_ppm=np.where(eligible, credit.weight_ppm[at], 0).astype(np.int64),
        credit_batch_id=np.where(verified, batch.astype(object), None),
        record_date=np.where(verified, credit.as_of[at], np.datetime64("NaT", "D")),
        salted_hash=np.ma.MaskedArray(credit.salted_hash[at], mask=np.repeat(~verified[:, None], 32, axis=1)),
        credit_row=position,
        excluded_root=root,
        credit_batch_for_pack=int(used.max()) if used.size and used.max() > 0 else None,
    )


# ---------------------------------------------------------------- grade


def rate_dict(rate: BadRate) -> dict:
    return {"ppm": rate.ppm, "exact": f"{rate.exact.numerator}/{rate.exact.denominator}"}


def estimate_dict(estimate: PackEstimate) -> dict:
    return {"level_based": rate_dict(estimate.level_based), "pd_based": rate_dict(estimate.pd_based)}


def grade_pack(levels: np.ndarray, pd_ppm: np.ndarray, balances: np.ndarray, table: LevelTable) -> dict:
    """Claims 5-6: the level mix by count and by balance, and both bad-rate estimates each way."""
    by = {weight: estimate_pack(levels, pd_ppm, balances, table, weight) for weight in WeightBy}
    mix = by[WeightBy.COUNT].mix
    return {
        "level_counts": list(mix.counts),
        "level_balances": [str(balance) for balance in mix.balances],  # JSON numbers lose precision > 2^53
        "count_shares_ppm": list(mix.shares_ppm(WeightBy.COUNT)),
        "balance_shares_ppm": list(mix.shares_ppm(WeightBy.BALANCE)),
        "level_bad_rates_ppm": list(table.bad_rate_ppm),
        "level_edges": list(table.edges.upper_edges),
        "by_count": estimate_dict(by[WeightBy.COUNT]),
        "by_balance": estimate_dict(by[WeightBy.BALANCE]),
    }


def grade_call_args(grade: dict) -> tuple[list[int], list[int], int, int]:
    """recordGrade's arguments: level counts, level balances and the level-based rates (claim 6)."""
    return (list(grade["level_counts"]), [int(b) for b in grade["level_balances"]],
            grade["by_count"]["level_based"]["ppm"], grade["by_balance"]["level_based"]["ppm"])


# ---------------------------------------------------------------- filter and commit


def pack_asset_tree(asset_ids: np.ndarray, record_hashes: np.ndarray, scores: np.ndarray,
                    levels: np.ndarray) -> StandardMerkleTree | None:
    if not asset_ids.shape[0]:
        return None
    return StandardMerkleTree.of_columns(
        [asset_ids, record_hashes, scores.astype(np.uint8), levels.astype(np.uint8)], PACK_ASSET_LEAF
    )


def removal_reasons(plan: FilterPlan, levels: np.ndarray) -> list[str]:
    """Why each removed asset (in removal order) was removed, in words a report can show."""
    removed = plan.removed_indices
    if plan.mode is FilterMode.GLOBAL:
        return [f"global: riskiest first, removal rank {rank + 1} of {removed.size}" for rank in range(removed.size)]
    share = plan.screening_share or Fraction(0)
    percent = float(share * 100)
    return [f"per-level: in the riskiest {percent:.2f}% of level {int(levels[i])}" for i in removed.tolist()]


def chain_filter_rates(plan: FilterPlan, grade: dict) -> tuple[int, int]:
    """(before, after) ppm for recordFilter.

    ``before`` must be the grade's level-based rate for the weighting (the contract checks it).
    ``after`` is the estimate the mode is judged by: level-based for global, PD-based for
    per-level (equal shares leave the level mix, hence the level-based rate, nearly unchanged).
    The report states both estimates for both moments.
    """
    key = "by_count" if plan.weight_by is WeightBy.COUNT else "by_balance"
    before = grade[key]["level_based"]["ppm"]
    judged = plan.judged_rate(plan.after)
    return before, judged.ppm


def outcome_columns(plan: FilterPlan, eligible_rows: np.ndarray, levels: np.ndarray,
                    credit_reasons: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every asset's outcome (kept, removed, excluded), removal rank and reason, in row order."""
    count = len(credit_reasons)
    codes, names = pd.factorize(pd.Series(list(credit_reasons), dtype=object))  # a handful of distinct reasons
    worded = np.asarray([f"excluded before scoring: {name}" for name in names] + [None], dtype=object)
    reason = worded[np.where(codes >= 0, codes, len(names))]
    outcome = np.full(count, "excluded", dtype=object)
    rank = np.full(count, None, dtype=object)
    outcome[eligible_rows[plan.kept_indices]] = "kept"
    removed = eligible_rows[plan.removed_indices]
    outcome[removed] = "removed"
    rank[removed] = np.arange(1, removed.size + 1)
    reason[removed] = np.asarray(removal_reasons(plan, levels), dtype=object)
    return outcome, rank, reason


def filter_result_tuple(summary: dict) -> tuple:
    """recordFilter's FilterResult, from the stored plan summary."""
    return (0 if summary["mode"] == "global" else 1, 0 if summary["weight_by"] == "count" else 1,
            from_hex32(summary["kept_root"]), from_hex32(summary["removed_root"]), summary["kept_count"],
            summary["removed_count"], int(summary["kept_balance"]), int(summary["removed_balance"]),
            summary["chain_bad_rate_before_ppm"], summary["chain_bad_rate_after_ppm"])


def plan_dict(plan: FilterPlan, expected_ppm: int) -> dict:
    def curve_point(point) -> dict:
        return {**point.__dict__, "removed_balance": str(point.removed_balance)}

    def mix_row(row) -> dict:
        return {**row.__dict__, "balance_before": str(row.balance_before), "balance_after": str(row.balance_after)}

    return {
        "mode": "global" if plan.mode is FilterMode.GLOBAL else "per-level",
        "weight_by": plan.weight_by.value,
        "judged_by": plan.judged_by.value,
        "expected_bad_rate_ppm": expected_ppm,
        "removed_count": plan.removed_count,
        "kept_count": int(plan.kept_indices.size),
        "removed_balance": str(plan.removed_balance),
        "kept_balance": str(plan.after.mix.total_balance),
        "share_removed_ppm": plan.share_removed_ppm,
        "screening_share": None if plan.screening_share is None else
        {"exact": f"{plan.screening_share.numerator}/{plan.screening_share.denominator}",
         "ppm": int(plan.screening_share * PPM)},
        "before": estimate_dict(plan.before),
        "after": estimate_dict(plan.after),
        "judged_after_ppm": plan.judged_rate(plan.after).ppm,
        "curve": [curve_point(point) for point in plan.curve],
        "level_mix": [mix_row(row) for row in plan.level_mix],
    }


def judged_name(estimate: Estimate) -> str:
    return "level-based" if estimate is Estimate.LEVEL_BASED else "PD-based"
