"""What the pipeline needs from outside, as small interfaces: credit verdicts and a scoring model.

``wiring`` plugs in the real adapters (the bureau through ``api.services.credit_check`` and the
model the ModelRegistry vouches for through ``api.services.model_registry``); tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from scoring.grading import LevelTable

if TYPE_CHECKING:
    from api.services.credit_check import CreditColumns


class Verdict(Protocol):
    """One borrower's credit verdict (``api.services.credit_check.CreditVerdict`` has these fields)."""

    borrower_id: str
    eligible: bool
    reason: str | None
    weight_ppm: int
    record: dict | None
    salted_hash: str | None
    credit_batch_id: int | None
    as_of: date | None


class CreditSource(Protocol):
    """Bureau records of borrowers, verified against the bureau's on-chain commitments."""

    def check(self, borrower_ids: Sequence[str], *, today: date) -> list[Verdict]:
        """One verdict per borrower id, in the order given."""
        ...

    def check_columns(self, borrower_ids: Sequence[str], *, today: date) -> CreditColumns:
        """The same check of many borrowers as columns, with the verified records as one table."""
        ...


@dataclass(frozen=True)
class Scores:
    """What a model says about a batch of credit records (arrays in input order)."""

    scores: Any  # int64, 1..100, higher is safer
    levels: Any  # int64, 1 (riskiest) .. 10
    pd_ppm: Any  # int64
    reason_codes: list[str]  # per asset: the costliest features, ';'-separated


class ScoringModel(Protocol):
    """A registered model: its on-chain id and identity, its level table, and its scoring."""

    model_id: int
    name: str
    artifact_hash: str
    level_table: LevelTable

    def score(self, records: pd.DataFrame) -> Scores: ...


class ModelSource(Protocol):
    def load(self, model_id: int | None = None) -> ScoringModel:
        """Model ``model_id``, or the one that scores new packs (configured, or the newest active)."""
        ...
