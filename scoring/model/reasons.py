"""Reason codes: which attributes cost an asset the most points.

For every feature, the shortfall is the feature's best attainable points minus the
points the asset got. The reasons are the features with the largest shortfalls,
largest first; ties go to the feature listed first in the points table, so the
codes are deterministic. A feature that cost nothing is never a reason: an asset
with fewer than `k` costly features gets -1 (no reason) in the remaining slots.
"""

from __future__ import annotations

import numpy as np

from scoring.model.points import PointsTable

NO_REASON = -1


def point_shortfalls(table: PointsTable, points: np.ndarray) -> np.ndarray:
    """(n_assets, n_features) points lost against each feature's best bin."""
    best = np.array([f.best_points for f in table.features], dtype=np.int64)
    return np.maximum(best - points, 0)


def reason_codes(table: PointsTable, points: np.ndarray, k: int = 3) -> np.ndarray:
    """(n_assets, k) feature indices into `table.features`, costliest first, -1 where none.

    Vectorised: one stable argsort of the negated shortfalls, then the first k columns.
    """
    shortfall = point_shortfalls(table, points)
    k = min(k, shortfall.shape[1])
    order = np.argsort(-shortfall, axis=1, kind="stable")[:, :k]
    lost = np.take_along_axis(shortfall, order, axis=1)
    return np.where(lost > 0, order, NO_REASON)


def reason_names(table: PointsTable, codes: np.ndarray) -> list[list[str]]:
    """Feature names for reason codes, dropping the empty slots (for reports and APIs)."""
    names = np.array(table.feature_names, dtype=object)
    return [[names[c] for c in row if c != NO_REASON] for row in codes.tolist()]
