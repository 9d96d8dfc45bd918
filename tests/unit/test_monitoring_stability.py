"""PSI and CSI: hand-computed values, band edges, binning from the issuance distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.errors import ScoringError
from scoring.monitoring.stability import (
    PSI_BANDS,
    binned_counts,
    csi,
    psi,
    psi_band,
    psi_ppm,
    quantile_edges,
    score_psi,
)


def test_psi_of_a_shift_from_uniform_matches_the_hand_computation() -> None:
    # (0.1-0.25) ln(0.1/0.25) = (-0.15)(-0.916291) = 0.137444
    # (0.2-0.25) ln(0.8)      = (-0.05)(-0.223144) = 0.011157
    # (0.3-0.25) ln(1.2)      = ( 0.05)( 0.182322) = 0.009116
    # (0.4-0.25) ln(1.6)      = ( 0.15)( 0.470004) = 0.070501
    #                                        total = 0.228218 -> "moderate"
    value = psi([0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4])
    assert value == pytest.approx(0.228218, abs=1e-6)
    assert psi_band(value) == "moderate"
    # Counts are turned into shares: the same distributions as counts give the same PSI.
    assert psi([250, 250, 250, 250], [10, 20, 30, 40]) == pytest.approx(value, rel=1e-12)
    assert psi_ppm(value) == 228_217  # 0.22821741 x 1e6, rounded half up


def test_identical_distributions_give_zero_even_with_empty_bins() -> None:
    assert psi([3, 0, 7, 0], [30, 0, 70, 0]) == 0.0
    assert psi_band(0.0) == "stable"


def test_an_empty_bin_is_floored_so_psi_stays_finite() -> None:
    # expected [0.5, 0.5, 0] vs actual [0.5, 0.49, 0.01]; the empty bin counts as 0.0001:
    # (0.49-0.5) ln(0.49/0.5) + (0.01-0.0001) ln(0.01/0.0001) = 0.000202 + 0.045591 = 0.045793
    assert psi([50, 50, 0], [50, 49, 1]) == pytest.approx(0.045793, abs=1e-6)


def test_band_edges_are_inclusive_for_moderate() -> None:
    assert PSI_BANDS == (0.1, 0.25)
    assert psi_band(0.0999999) == "stable"
    assert psi_band(0.1) == "moderate"
    assert psi_band(0.25) == "moderate"
    assert psi_band(0.2500001) == "significant"


def test_psi_ppm_rounds_half_up_and_saturates_for_the_chain() -> None:
    assert psi_ppm(0.0000005) == 1
    assert psi_ppm(0.25) == 250_000
    assert psi_ppm(1e9) == 2**32 - 1
    assert psi_ppm(float("inf")) == 2**32 - 1


@pytest.mark.parametrize(
    ("expected", "actual", "message"),
    [([1, 2], [1, 2, 3], "bins"), ([1, -1], [1, 1], "non-negative"), ([0, 0], [1, 1], "all zero"), ([], [], "non-empty")],
)
def test_bad_inputs_are_refused_with_a_value_error_of_the_package(expected, actual, message) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        psi(expected, actual)
    assert isinstance(raised.value, ScoringError)


def test_quantile_edges_collapse_ties_and_missing_values_get_their_own_bin() -> None:
    issuance = [0] * 80 + [1] * 10 + [2] * 10
    edges = quantile_edges(issuance, bins=10)
    np.testing.assert_array_equal(edges, [0, 1])  # eight deciles at 0 collapse into one "<= 0" bin
    np.testing.assert_array_equal(binned_counts(issuance, edges), [80, 10, 10, 0])
    np.testing.assert_array_equal(binned_counts(pd.array([0, 1, 5, None], dtype="Int64"), edges), [1, 1, 1, 1])


def test_csi_flags_the_feature_that_moved_and_not_the_others() -> None:
    rng = np.random.default_rng(0)
    baseline = pd.DataFrame({
        "income": rng.lognormal(10, 0.5, 20_000),
        "utilisation": rng.beta(2, 4, 20_000),
        "region": pd.Categorical(rng.choice(["north", "south"], 20_000), categories=["north", "south", "east"]),
        "age": rng.integers(18, 80, 20_000),
    })
    current = baseline.copy()
    current["utilisation"] = np.clip(current["utilisation"] * 1.6, 0, 1.5)
    current.loc[:999, "region"] = "east"  # a category empty at issuance
    current.loc[1000:1999, "income"] = np.nan
    results = csi(baseline, current, ["income", "utilisation", "region", "age"])
    assert results["age"].value == 0.0 and results["age"].band == "stable"
    assert results["utilisation"].band == "significant"
    # 5% of the pack now in a category (and, for income, a missing bin) empty at issuance:
    # (0.05 - 0.0001) ln(0.05 / 0.0001) = 0.31, significant on its own.
    assert results["region"].band == "significant" and results["income"].band == "significant"
    assert results["region"].labels == ("north", "south", "east", "missing")
    assert results["region"].actual_counts[2] == 1000 and results["region"].expected_counts[2] == 0
    assert results["income"].actual_counts[-1] == 1000 and results["income"].labels[-1] == "missing"
    assert sum(results["income"].expected_counts) == 20_000 == sum(results["income"].actual_counts)
    with pytest.raises(ValueError, match="'tenure'"):
        csi(baseline, current, ["tenure"])


def test_score_psi_is_zero_for_the_same_scores_and_significant_for_a_downgrade() -> None:
    scores = np.random.default_rng(1).integers(1, 101, 10_000)
    same = score_psi(scores, scores.copy())
    assert same.value == 0.0 and same.band == "stable" and same.labels[-1] == "missing"
    assert score_psi(scores, np.clip(scores - 25, 1, 100)).band == "significant"
