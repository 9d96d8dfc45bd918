"""Row-level problems of a refused submission: every one counted, the first N listed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from api.errors import InvalidInputError
from api.orchestrator.submission.fields import ASSET_FIELDS


@dataclass(frozen=True, order=True)
class RowProblem:
    """One problem: ``row`` is 1-based among the pack's assets (0: the file or body as a whole)."""

    row: int
    field_rank: int
    field: str
    problem: str

    def to_dict(self, line_offset: int | None) -> dict:
        body = {"row": self.row, "field": self.field, "problem": self.problem}
        if line_offset is not None and self.row > 0:
            body["line"] = self.row + line_offset
        return body


def _rank(field: str) -> int:
    return ASSET_FIELDS.index(field) if field in ASSET_FIELDS else len(ASSET_FIELDS)


class ProblemCollector:
    """Counts every problem; keeps only the earliest ``limit`` of each check for the report."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._kept: list[RowProblem] = []
        self._bad_rows: set[int] | None = set()
        self._bad_mask: np.ndarray | None = None
        self._cells: dict[str, list[int]] = {}  # cells with a problem already (0-based rows)

    def add(self, row: int, field: str, problem: str) -> None:
        self.total += 1
        self._kept.append(RowProblem(row, _rank(field), field, problem))
        if row > 0:
            self._cells.setdefault(field, []).append(row - 1)
        self._mark(np.array([row - 1]) if row > 0 else np.array([], dtype=np.int64))

    def add_mask(self, mask: np.ndarray, field: str, describe: Callable[[int], str]) -> None:
        """Problems at every True position of ``mask`` (0-based positions), except at cells that
        already have one (a JSON value of the wrong type is not also "missing")."""
        if field in self._cells:
            mask = mask.copy()
            mask[self._cells[field]] = False
        positions = np.flatnonzero(mask)
        if not positions.size:
            return
        self.total += int(positions.size)
        for position in positions[: self.limit]:
            self._kept.append(RowProblem(int(position) + 1, _rank(field), field, describe(int(position))))
        self._mark(positions)

    def _mark(self, positions: np.ndarray) -> None:
        if self._bad_mask is None:
            self._bad_rows.update(int(p) for p in positions)  # type: ignore[union-attr]
        else:
            self._bad_mask[positions] = True

    def size_rows(self, count: int) -> None:
        """Switch to a mask once the number of rows is known (cheap for a million rows)."""
        self._bad_mask = np.zeros(count, dtype=bool)
        self._bad_mask[list(self._bad_rows or ())] = True
        self._bad_rows = None

    @property
    def rows_with_problems(self) -> int:
        if self._bad_mask is not None:
            return int(self._bad_mask.sum())
        return len(self._bad_rows or ())

    def __bool__(self) -> bool:
        return self.total > 0

    def refusal(self, source: str, line_offset: int | None = None) -> InvalidInputError:
        shown = sorted(self._kept)[: self.limit]
        return InvalidInputError(
            f"pack refused: {self.total} problem(s) in {max(self.rows_with_problems, 1)} row(s); nothing was stored",
            details={
                "source": source,
                "total_problems": self.total,
                "rows_with_problems": self.rows_with_problems,
                "shown": len(shown),
                "problems": [problem.to_dict(line_offset) for problem in shown],
            },
        )
