"""The assets of a pack as checked columns, and their order from riskiest to safest.

Columns: loan_id (str), score (int 1-100, higher is safer), pd_ppm (the model's
probability of default, int 0..1e6) and balance (outstanding, int minor units >= 1).

Risk order, riskiest first: lowest score, then highest PD within a score, then loan id
ascending. Loan ids must therefore be unique wherever score and PD tie, or the order
would depend on the input order; that is checked here. (Uniqueness across the whole
pack is the submission layer's check: a full string uniqueness pass would cost more
than the filtering itself on a million assets.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from scoring.errors import ScoringValueError
from scoring.grading import PPM, LevelEdges, check_scores

_COLUMNS = ("loan_id", "score", "pd_ppm", "balance")


@dataclass(frozen=True)
class PackAssets:
    """Validated asset columns; build with `from_columns` or `coerce`."""

    loan_id: np.ndarray
    score: np.ndarray
    pd_ppm: np.ndarray
    balance: np.ndarray
    _levels: dict[LevelEdges, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_columns(cls, loan_id: Any, score: Any, pd_ppm: Any, balance: Any) -> PackAssets:
        ids = np.asarray(loan_id)
        if ids.dtype.kind == "O":
            if not all(isinstance(value, str) for value in ids):
                raise ScoringValueError("loan ids must be strings")
            ids = ids.astype(str)
        elif ids.size and ids.dtype.kind != "U":
            raise ScoringValueError(f"loan ids must be strings, got dtype {ids.dtype}")
        scores = check_scores(score)
        pds = _integer_column("pd_ppm", pd_ppm, 0, PPM)
        balances = _integer_column("balance", balance, 1, np.iinfo(np.int64).max)
        lengths = {ids.size, scores.size, pds.size, balances.size}
        if ids.ndim != 1 or len(lengths) != 1:
            raise ScoringValueError(
                f"columns must be one-dimensional and of equal length, got lengths {sorted(lengths)}"
            )
        if ids.size == 0:
            raise ScoringValueError("the pack holds no assets")
        return cls(loan_id=ids, score=scores, pd_ppm=pds, balance=balances)

    @classmethod
    def coerce(cls, assets: PackAssets | Mapping[str, Any] | Any) -> PackAssets:
        """Accept PackAssets, a mapping of columns or a DataFrame with the four columns."""
        if isinstance(assets, PackAssets):
            return assets
        try:
            columns = {name: assets[name] for name in _COLUMNS}
        except (KeyError, TypeError, IndexError) as error:
            raise ScoringValueError(f"assets need the columns {', '.join(_COLUMNS)}") from error
        return cls.from_columns(**{name: np.asarray(column) for name, column in columns.items()})

    def __len__(self) -> int:
        return int(self.score.size)

    def levels(self, edges: LevelEdges) -> np.ndarray:
        """Risk level of each asset under `edges` (cached per edges)."""
        if edges not in self._levels:
            self._levels[edges] = edges.grade(self.score)
        return self._levels[edges]

    @cached_property
    def risk_order(self) -> np.ndarray:
        """Asset positions riskiest first: score ascending, PD descending, loan id ascending."""
        # score <= 100 and pd <= 1e6, so the combined key fits easily in int64.
        key = self.score * (PPM + 1) + (PPM - self.pd_ppm)
        order = np.argsort(key)  # not stable: ties are put in loan-id order below
        sorted_key = key[order]
        tied = sorted_key[1:] == sorted_key[:-1]
        if tied.any():
            in_tie = np.zeros(order.size, dtype=bool)
            in_tie[:-1] |= tied
            in_tie[1:] |= tied
            positions = np.flatnonzero(in_tie)
            members = order[positions]
            members = members[np.lexsort((self.loan_id[members], key[members]))]
            order[positions] = members
            ids, keys = self.loan_id[members], key[members]
            duplicated = np.flatnonzero((ids[1:] == ids[:-1]) & (keys[1:] == keys[:-1]))
            if duplicated.size:
                raise ScoringValueError(f"loan id {ids[duplicated[0]]!r} appears more than once")
        order.flags.writeable = False
        return order


def _integer_column(name: str, values: Any, lowest: int, highest: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ScoringValueError(f"{name} must be one-dimensional")
    if array.size and array.dtype.kind not in "iu":
        raise ScoringValueError(f"{name} must be integers, got dtype {array.dtype}")
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ScoringValueError(f"{name} does not fit in int64")
    array = array.astype(np.int64, copy=False)
    if array.size:
        bad = np.flatnonzero((array < lowest) | (array > highest))
        if bad.size:
            raise ScoringValueError(
                f"{name} must lie in {lowest}..{highest}: {bad.size} values do not,"
                f" first at index {bad[0]} ({array[bad[0]]})"
            )
    return array
