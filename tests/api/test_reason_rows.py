"""The scorer's reason texts are made once per distinct combination of reason codes: the packed-key
grouping must find exactly the groups ``np.unique(axis=0)`` finds, in the same order."""

from __future__ import annotations

import numpy as np
import pytest

from api.orchestrator.wiring import _distinct_rows


@pytest.mark.parametrize("shape", [(2_000, 3), (7, 1), (500, 5), (1, 3)])
def test_distinct_rows_are_numpys_unique_rows(shape):
    codes = np.random.default_rng(shape[0]).integers(-1, 14, shape)
    distinct, which = _distinct_rows(codes)
    expected, expected_which = np.unique(codes, axis=0, return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert which.tolist() == expected_which.reshape(-1).tolist()
    assert (distinct[which] == codes).all()


def test_codes_below_minus_one_and_an_empty_matrix_still_group():
    codes = np.array([[-3, 2], [0, 1], [-3, 2]])
    distinct, which = _distinct_rows(codes)
    assert distinct.tolist() == [[-3, 2], [0, 1]] and which.tolist() == [0, 1, 0]
    distinct, which = _distinct_rows(np.zeros((0, 3), dtype=np.int64))
    assert distinct.shape == (0, 3) and which.size == 0
