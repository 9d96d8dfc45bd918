"""Risk levels (patent claim 5): score segments map to levels, each with its historical bad rate.

Scores are integers 1-100, higher is safer. Levels are numbered from 1 (riskiest,
lowest scores) up; by default level 1 = scores 1-10 ... level 10 = scores 91-100.
Edges are given as each level's highest score (`upper_edges`), strictly increasing
and ending at 100, so the segments cover 1..100 without gaps or overlaps.

A level's bad rate is defaulted / total among the historical loans scored into it
(1,000 loans with 100 defaults -> 10%), kept in integer parts per million, rounded
half up. A level with no history has no rate (None), never a made-up 0: a pack
holding assets of such a level cannot be rated, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.errors import ScoringValueError

MIN_SCORE = 1
MAX_SCORE = 100
PPM = 1_000_000
DEFAULT_UPPER_EDGES: tuple[int, ...] = tuple(range(10, MAX_SCORE + 1, 10))


@dataclass(frozen=True)
class LevelEdges:
    """Score segments of the risk levels: level i+1 covers (upper_edges[i-1], upper_edges[i]]."""

    upper_edges: tuple[int, ...] = DEFAULT_UPPER_EDGES

    def __post_init__(self) -> None:
        edges = tuple(self.upper_edges)
        if not edges or not all(isinstance(edge, (int, np.integer)) and not isinstance(edge, bool) for edge in edges):
            raise ScoringValueError(f"level edges must be a non-empty sequence of integers, got {self.upper_edges!r}")
        edges = tuple(int(edge) for edge in edges)
        if edges[0] < MIN_SCORE or edges[-1] != MAX_SCORE or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ScoringValueError(
                f"level edges must increase strictly from at least {MIN_SCORE} and end at {MAX_SCORE}, got {edges}"
            )
        object.__setattr__(self, "upper_edges", edges)

    @property
    def level_count(self) -> int:
        return len(self.upper_edges)

    def segments(self) -> tuple[tuple[int, int], ...]:
        """(lowest score, highest score) of each level, level 1 first."""
        lowers = (MIN_SCORE,) + tuple(edge + 1 for edge in self.upper_edges[:-1])
        return tuple(zip(lowers, self.upper_edges))

    def grade(self, scores: Any) -> np.ndarray:
        """Level (1 = riskiest) of each score, as int64."""
        checked = check_scores(scores)
        return np.searchsorted(np.asarray(self.upper_edges, dtype=np.int64), checked, side="left") + 1


DEFAULT_EDGES = LevelEdges()


def check_scores(scores: Any) -> np.ndarray:
    """Scores as an int64 array, refusing non-integers and anything outside 1..100."""
    array = np.asarray(scores)
    if array.ndim != 1:
        raise ScoringValueError(f"scores must be one-dimensional, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ScoringValueError(f"scores must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size:
        bad = np.flatnonzero((array < MIN_SCORE) | (array > MAX_SCORE))
        if bad.size:
            raise ScoringValueError(
                f"scores must lie in {MIN_SCORE}..{MAX_SCORE}: {bad.size} do not,"
                f" first at index {bad[0]} ({array[bad[0]]})"
            )
    return array


def grade(scores: Any, edges: LevelEdges = DEFAULT_EDGES) -> np.ndarray:
    """Level (1 = riskiest) of each integer score 1-100."""
    return edges.grade(scores)


@dataclass(frozen=True)
class LevelTable:
    """Each level's historical bad rate in ppm (None where the level had no history)."""

    edges: LevelEdges
    bad_rate_ppm: tuple[int | None, ...]
    historical_total: tuple[int, ...] | None = None
    historical_defaults: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        rates = tuple(self.bad_rate_ppm)
        if len(rates) != self.edges.level_count:
            raise ScoringValueError(f"{self.edges.level_count} levels need as many bad rates, got {len(rates)}")
        for level, rate in enumerate(rates, start=1):
            is_ppm = isinstance(rate, (int, np.integer)) and not isinstance(rate, bool) and 0 <= rate <= PPM
            if rate is not None and not is_ppm:
                raise ScoringValueError(f"bad rate of level {level} must be an integer ppm in 0..{PPM}, got {rate!r}")
        object.__setattr__(self, "bad_rate_ppm", tuple(None if rate is None else int(rate) for rate in rates))
        for name in ("historical_total", "historical_defaults"):
            counts = getattr(self, name)
            if counts is not None and len(counts) != len(rates):
                raise ScoringValueError(f"{name} must have one count per level")

    @classmethod
    def from_rates(cls, bad_rate_ppm: Sequence[int | None], edges: LevelEdges = DEFAULT_EDGES) -> LevelTable:
        return cls(edges=edges, bad_rate_ppm=tuple(bad_rate_ppm))

    @property
    def level_count(self) -> int:
        return self.edges.level_count

    def rates_of_levels(self, levels: np.ndarray) -> np.ndarray:
        """Bad rate (ppm, int64) of each asset's level; refuses levels that have no rate."""
        present = np.flatnonzero(np.bincount(levels, minlength=self.level_count + 1))
        missing = [int(level) for level in present if self.bad_rate_ppm[int(level) - 1] is None]
        if missing:
            raise ScoringValueError(
                f"levels {missing} have no historical bad rate, so a pack holding them cannot be rated"
            )
        lookup = np.array([0] + [rate or 0 for rate in self.bad_rate_ppm], dtype=np.int64)
        return lookup[levels]

    def rows(self) -> list[dict[str, int | None]]:
        """One plain row per level, for reports and for registering the table with the model."""
        rows = []
        for index, (lowest, highest) in enumerate(self.edges.segments()):
            rows.append(
                {
                    "level": index + 1,
                    "min_score": lowest,
                    "max_score": highest,
                    "count": None if self.historical_total is None else self.historical_total[index],
                    "defaults": None if self.historical_defaults is None else self.historical_defaults[index],
                    "bad_rate_ppm": self.bad_rate_ppm[index],
                }
            )
        return rows


def level_table_from_history(scores: Any, defaulted: Any, edges: LevelEdges = DEFAULT_EDGES) -> LevelTable:
    """Bad rate of each level from historical loans: defaulted / total, in ppm rounded half up."""
    levels = edges.grade(scores)
    flags = np.asarray(defaulted)
    if flags.shape != levels.shape:
        raise ScoringValueError(f"need one default flag per score: {flags.shape} flags for {levels.shape} scores")
    if flags.size and (flags.dtype.kind not in "biu" or not np.isin(flags, (0, 1)).all()):
        raise ScoringValueError("default flags must be booleans or 0/1")
    flags = flags.astype(np.int64, copy=False)
    totals = np.bincount(levels, minlength=edges.level_count + 1)[1:]
    defaults = np.bincount(levels[flags == 1], minlength=edges.level_count + 1)[1:]
    rates = tuple(
        None if total == 0 else (int(bad) * PPM + int(total) // 2) // int(total) for total, bad in zip(totals, defaults)
    )
    return LevelTable(
        edges=edges,
        bad_rate_ppm=rates,
        historical_total=tuple(int(total) for total in totals),
        historical_defaults=tuple(int(bad) for bad in defaults),
    )
