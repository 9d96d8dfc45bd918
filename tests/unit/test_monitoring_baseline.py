"""The stored baseline gives the same PSI/CSI as the issuance data itself, and survives JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scoring.monitoring.baseline import Baseline, baseline_of, feature_stability, score_stability
from scoring.monitoring.stability import csi, score_psi


@pytest.fixture
def issuance() -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(3)
    scores = rng.integers(1, 101, 5_000)
    records = pd.DataFrame({"utilisation": rng.beta(2, 4, 5_000),
                            "region": pd.Categorical(rng.choice(["north", "south", "east"], 5_000))})
    records.loc[::50, "utilisation"] = np.nan
    return scores, records


def test_stored_bins_give_the_same_stability_as_the_data(issuance):
    scores, records = issuance
    stored = Baseline.from_dict(json.loads(json.dumps(baseline_of(scores, records, ["utilisation", "region"]).to_dict())))
    later_scores = np.clip(scores - 8, 1, 100)
    later = records.assign(utilisation=records["utilisation"] * 1.3)
    assert score_stability(stored, scores).value == pytest.approx(0.0, abs=1e-12)
    assert score_stability(stored, later_scores).value == pytest.approx(score_psi(scores, later_scores).value)
    assert score_stability(stored, later_scores).value > 0.1
    expected = csi(records, later, ["utilisation", "region"])
    got = feature_stability(stored, later)
    assert {k: round(v.value, 12) for k, v in got.items()} == {k: round(v.value, 12) for k, v in expected.items()}
    assert got["region"].value == pytest.approx(0.0, abs=1e-12)


def test_a_category_new_since_issuance_gets_its_own_bin(issuance):
    scores, records = issuance
    stored = baseline_of(scores, records, ["region"])
    later = records.assign(region=records["region"].astype(str).where(records.index % 4 != 0, "west"))
    result = feature_stability(stored, later)["region"]
    assert "west" in result.labels and result.expected_counts[result.labels.index("west")] == 0
    assert result.actual_counts[result.labels.index("west")] == 1_250
    assert result.band == "significant"
