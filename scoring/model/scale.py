"""From a model's log-odds to the platform's integer score 1-100 (higher is safer).

    score = anchor_score + pdo / ln 2 * (ln(odds_good) - ln(anchor_odds)),  odds_good = (1 - PD) / PD

Every `pdo` points the good:bad odds double ("points to double the odds"), and at
`anchor_score` the odds are `anchor_odds`. A fixed published scale (say PDO 20,
score 600 at 50:1) would crowd a 1-100 range at one end, so `spanning` chooses the
two parameters from the training population instead: its 1st-99th percentile of
log-odds lands on scores 5-95, leaving head-room for better and worse assets. Both
models of one training run share the scorecard's scale, so their scores compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scoring.errors import ScoringValueError
from scoring.grading import MAX_SCORE, MIN_SCORE


@dataclass(frozen=True)
class ScoreScale:
    pdo: float
    anchor_score: float
    anchor_odds: float

    def __post_init__(self) -> None:
        if not (self.pdo > 0 and self.anchor_odds > 0 and math.isfinite(self.pdo) and math.isfinite(self.anchor_odds)):
            raise ScoringValueError(f"a score scale needs positive finite pdo and anchor odds, got {self}")

    @property
    def factor(self) -> float:
        """Points per unit of natural log-odds."""
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        """The (unclipped) score at even odds, 1:1."""
        return self.anchor_score - self.factor * math.log(self.anchor_odds)

    def raw_score(self, log_odds_good: np.ndarray) -> np.ndarray:
        return self.offset + self.factor * np.asarray(log_odds_good, dtype=float)

    def score(self, log_odds_good: np.ndarray) -> np.ndarray:
        """Integer scores, rounded half to even and clipped to 1-100."""
        return np.clip(np.rint(self.raw_score(log_odds_good)), MIN_SCORE, MAX_SCORE).astype(np.int64)

    def log_odds_good(self, score: np.ndarray) -> np.ndarray:
        return (np.asarray(score, dtype=float) - self.offset) / self.factor

    @classmethod
    def spanning(cls, log_odds_good: np.ndarray, low_score: float = 5.0, high_score: float = 95.0,
                 quantiles: tuple[float, float] = (0.01, 0.99)) -> ScoreScale:
        """The scale that puts the given quantiles of a population's log-odds at `low_score` and `high_score`.

        PDO is rounded to 0.1 points and the anchor odds (at score 50) to three
        significant digits, so the published parameters are readable.
        """
        values = np.asarray(log_odds_good, dtype=float)
        values = values[np.isfinite(values)]
        if values.size < 2:
            raise ScoringValueError("a score scale needs at least two finite log-odds")
        low, high = (float(q) for q in np.quantile(values, quantiles))
        if not high > low:
            raise ScoringValueError("the model gives every training row the same log-odds; nothing to scale")
        pdo = round((high_score - low_score) * math.log(2) / (high - low), 1) or 0.1
        anchor_score = 50.0
        anchor_log_odds = low + (anchor_score - low_score) / (high_score - low_score) * (high - low)
        anchor_odds = float(f"{math.exp(anchor_log_odds):.3g}")
        return cls(pdo=pdo, anchor_score=anchor_score, anchor_odds=anchor_odds)

    def to_dict(self) -> dict:
        return {"pdo": self.pdo, "anchor_score": self.anchor_score, "anchor_odds": self.anchor_odds,
                "min_score": MIN_SCORE, "max_score": MAX_SCORE}

    @classmethod
    def from_dict(cls, data: dict) -> ScoreScale:
        return cls(pdo=float(data["pdo"]), anchor_score=float(data["anchor_score"]), anchor_odds=float(data["anchor_odds"]))
