"""The rule check of a proposed asset swap: which loans leave a product, which substitutes enter.

A swap is accepted only with no problem at all. Problems name the loan (empty for the
pack as a whole), the field and a stable code the shell maps to a message:

- out loans: "not_held", "duplicate"; candidates: "duplicate", "already_held", the
  shell's own finding (e.g. "failed_verification"), "not_scored" (no level),
  "out_of_range" / "no_bad_rate" (level unknown to the table), "not_positive" (balance);
- pairs: "count_mismatch" (swaps are 1:1, out[i] is replaced by candidates[i]), "empty";
- bad_rate: "above_expected" (the level-based bad rate after the swap, exact, exceeds
  the product's expected rate) or "empty_pack";
- balance: "outside_tolerance".

Balance tolerance: |sum in - sum out| <= tolerance_ppm x sum out / 1e6, checked in
integers. The default 2% lets whole loans replace whole loans (balances never match to
the cent) while keeping the pool that backs the securities' principal within a narrow
band: a swap must neither thin the collateral nor quietly load the pool with more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.bad_rate import BadRate, WeightBy, level_based_bad_rate, level_mix
from scoring.errors import ScoringValueError
from scoring.grading import PPM, LevelTable

DEFAULT_BALANCE_TOLERANCE_PPM = 20_000


@dataclass(frozen=True)
class Holding:
    """A live asset of the product at its latest cycle level."""

    loan_id: str
    level: int
    balance_minor: int


@dataclass(frozen=True)
class Candidate:
    """A proposed substitute; `problem` is set by the shell when it failed verification or scoring."""

    loan_id: str
    level: int | None
    balance_minor: int
    problem: str | None = None


@dataclass(frozen=True)
class SwapProblem:
    loan_id: str
    field: str
    problem: str


@dataclass(frozen=True)
class SwapDecision:
    accepted: bool
    problems: tuple[SwapProblem, ...]
    bad_rate_before_ppm: int
    bad_rate_after_ppm: int
    balance_out_minor: int
    balance_in_minor: int


def _duplicates(ids: Sequence[str]) -> set[str]:
    return {loan_id for loan_id, count in Counter(ids).items() if count > 1}


def _candidate_problems(candidates: Sequence[Candidate], held: set[str], table: LevelTable) -> list[SwapProblem]:
    problems = []
    repeated = _duplicates([c.loan_id for c in candidates])
    for candidate in candidates:
        cid = candidate.loan_id
        if cid in repeated:
            problems.append(SwapProblem(cid, "candidates", "duplicate"))
        if cid in held:
            problems.append(SwapProblem(cid, "candidates", "already_held"))
        if candidate.problem:
            problems.append(SwapProblem(cid, "candidates", candidate.problem))
        if candidate.balance_minor < 1:
            problems.append(SwapProblem(cid, "balance_minor", "not_positive"))
        if candidate.level is None:
            problems.append(SwapProblem(cid, "level", "not_scored"))
        elif not 1 <= candidate.level <= table.level_count:
            problems.append(SwapProblem(cid, "level", "out_of_range"))
        elif table.bad_rate_ppm[candidate.level - 1] is None:
            problems.append(SwapProblem(cid, "level", "no_bad_rate"))
    return problems


def _bad_rate(levels: list[int], balances: list[int], table: LevelTable, weight_by: WeightBy) -> BadRate:
    mix = level_mix(np.array(levels, dtype=np.int64), np.array(balances, dtype=np.int64), table.level_count)
    return level_based_bad_rate(mix, table, weight_by)


def evaluate_swap(holdings: Sequence[Holding], out_loan_ids: Sequence[str], candidates: Sequence[Candidate], *,
                  table: LevelTable, expected_bad_rate_ppm: int, weight_by: WeightBy,
                  balance_tolerance_ppm: int = DEFAULT_BALANCE_TOLERANCE_PPM) -> SwapDecision:
    """Check a 1:1 swap of `out_loan_ids` for `candidates` against the product's rules."""
    if not holdings:
        raise ScoringValueError("a swap needs the product's current holdings, and there are none")
    if not 0 <= balance_tolerance_ppm <= PPM:
        raise ScoringValueError(f"balance_tolerance_ppm must lie in 0..{PPM}, got {balance_tolerance_ppm}")
    held = {h.loan_id: h for h in holdings}
    problems = [SwapProblem(i, "out_loan_ids", "duplicate") for i in sorted(_duplicates(out_loan_ids))]
    problems += [SwapProblem(i, "out_loan_ids", "not_held") for i in out_loan_ids if i not in held]
    problems += _candidate_problems(candidates, set(held), table)
    if len(out_loan_ids) != len(candidates):
        problems.append(SwapProblem("", "pairs", "count_mismatch"))
    elif not candidates:
        problems.append(SwapProblem("", "pairs", "empty"))

    before = _bad_rate([h.level for h in holdings], [h.balance_minor for h in holdings], table, weight_by)
    leaving = set(out_loan_ids)
    staying = [h for h in holdings if h.loan_id not in leaving]
    entering = [c for c in candidates if c.level is not None and 1 <= c.level <= table.level_count
                and table.bad_rate_ppm[c.level - 1] is not None and c.balance_minor >= 1]
    after_ppm = 0
    if staying or entering:
        after = _bad_rate([h.level for h in staying] + [c.level for c in entering],  # type: ignore[misc]
                              [h.balance_minor for h in staying] + [c.balance_minor for c in entering],
                              table, weight_by)
        after_ppm = after.ppm
        if not after.meets(expected_bad_rate_ppm):
            problems.append(SwapProblem("", "bad_rate", "above_expected"))
    else:
        problems.append(SwapProblem("", "bad_rate", "empty_pack"))

    balance_out = sum(held[i].balance_minor for i in leaving if i in held)
    balance_in = sum(c.balance_minor for c in candidates)
    if abs(balance_in - balance_out) * PPM > balance_tolerance_ppm * balance_out:
        problems.append(SwapProblem("", "balance", "outside_tolerance"))
    return SwapDecision(accepted=not problems, problems=tuple(problems), bad_rate_before_ppm=before.ppm,
                        bad_rate_after_ppm=after_ppm, balance_out_minor=balance_out, balance_in_minor=balance_in)
