"""The drifting synthetic world: deterministic, stable when nothing happens, moved by shocks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from scoring.data.schema import CREDIT_FEATURES, CREDIT_RECORD, TARGET
from scoring.data.synthetic import DriftShock, generate_history, generate_pack
from scoring.data.world import SyntheticWorld
from scoring.errors import ScoringValueError
from scoring.model.scorecard import Scorecard
from scoring.monitoring.stability import score_psi

START = date(2025, 7, 31)


def test_generator_outputs_are_pinned_so_the_shared_log_odds_changed_nothing() -> None:
    # Values taken from the generator before its log-odds were factored out for the world.
    history = generate_history(2000, seed=7)
    assert history["true_pd"].iloc[[0, 1, 1999]].tolist() == [0.009722103264085964, 0.11356767844820902, 0.019061930278831418]
    assert (history[TARGET].sum(), history["delinquencies_30d"].sum(), history["outstanding_debt_minor"].sum()) == (
        143, 753, 5596367753)
    pack = generate_pack(2000, seed=8, include_true_pd=True, shock=DriftShock(region="west", stress_multiplier=2.5))
    assert pack["true_pd"].iloc[[0, 5, 1999]].tolist() == [0.03658272778480055, 0.043136299421077835, 0.5570815427343054]
    assert (pack["delinquencies_30d"].sum(), pack["recent_inquiries"].sum(), pack["deposits_minor"].sum()) == (
        829, 3604, 7575053002)
    assert pack["credit_utilisation"].sum() == pytest.approx(805.2574, abs=1e-9)


@pytest.fixture(scope="module")
def pack() -> pd.DataFrame:
    return generate_pack(30_000, seed=3, include_true_pd=True)


@pytest.fixture(scope="module")
def stable_run(pack):
    world = SyntheticWorld(pack, seed=1, start=START)
    return [world.advance() for _ in range(12)]


def test_same_seed_same_world_other_seed_other_world(pack) -> None:
    first, second = (SyntheticWorld(pack, seed=5, start=START) for _ in range(2))
    for _ in range(3):
        a, b = first.advance(), second.advance()
        pd.testing.assert_frame_equal(a.records, b.records)
        pd.testing.assert_frame_equal(a.performance, b.performance)
        np.testing.assert_array_equal(a.true_pd, b.true_pd)
    other = SyntheticWorld(pack, seed=6, start=START)
    assert not np.array_equal(other.advance().true_pd, SyntheticWorld(pack, seed=5, start=START).advance().true_pd)


def test_without_drift_the_records_and_pds_are_the_base_ones(pack) -> None:
    cycle = SyntheticWorld(pack, seed=5, start=START, volatility=0.0).advance()
    assert cycle.as_of == date(2025, 8, 31) and (cycle.records["record_date"] == pd.Timestamp("2025-08-31")).all()
    assert list(cycle.records.columns) == list(CREDIT_RECORD.names)
    base = pack.set_index("borrower_id").loc[cycle.records["borrower_id"]].reset_index()
    columns = [c for c in CREDIT_RECORD.names if c != "record_date"]
    pd.testing.assert_frame_equal(cycle.records[columns], base[columns], check_dtype=False)
    np.testing.assert_allclose(cycle.true_pd, base["true_pd"], rtol=1e-9)


def test_a_stable_world_keeps_its_scores_and_pds_and_defaults_at_the_pd_implied_rate(pack, stable_run) -> None:
    history = generate_history(20_000, seed=4)
    model = Scorecard().fit(history[list(CREDIT_FEATURES)], history[TARGET].to_numpy())
    issuance_scores = model.predict_score(pack)
    base_pd = pack.set_index("borrower_id")["true_pd"]
    previous_pd = base_pd
    defaults, expected, variance = 0, 0.0, 0.0
    for cycle in stable_run:
        assert score_psi(issuance_scores, model.predict_score(cycle.records)).value < 0.1
        # Survivors are safer than the pack (defaulters leave), so compare with the same borrowers' base PDs.
        same_borrowers = base_pd.loc[cycle.records["borrower_id"]].mean()
        assert abs(cycle.true_pd.mean() / same_borrowers - 1) < 0.03
        monthly = 1 - (1 - previous_pd.to_numpy()) ** (1 / 12)
        expected += monthly.sum()
        variance += (monthly * (1 - monthly)).sum()
        defaults += int((cycle.performance["changed"] & (cycle.performance["status"] == "defaulted")).sum())
        previous_pd = pd.Series(cycle.true_pd, index=cycle.records["borrower_id"])
    # Each month's defaults are Bernoulli draws of the previous records' monthly PDs, so the
    # total lies within 4 binomial standard errors of their sum (a 1-in-15,000 miss for a correct world).
    assert abs(defaults - expected) < 4 * np.sqrt(variance)
    assert defaults > 1_000


def test_loans_that_left_get_no_records_and_never_come_back(stable_run) -> None:
    left: set[str] = set()
    previous_balance = None
    for cycle in stable_run:
        performance = cycle.performance.set_index("loan_id")
        performing = performance.index[performance["status"] == "performing"]
        assert sorted(cycle.records["borrower_id"]) == sorted(performance.loc[performing, "borrower_id"])
        assert not left & set(performing)
        left |= set(performance.index[performance["status"] != "performing"])
        assert (performance.loc[performance["status"].isin(["prepaid", "matured"]), "outstanding_balance_minor"] == 0).all()
        if previous_balance is not None:
            assert (performance["outstanding_balance_minor"] <= previous_balance).all()
            defaulted_before = previous_status == "defaulted"
            assert (performance.loc[defaulted_before, "outstanding_balance_minor"]
                    == previous_balance[defaulted_before]).all()
        previous_balance, previous_status = performance["outstanding_balance_minor"], performance["status"]
    statuses = set(stable_run[-1].performance["status"])
    assert statuses == {"performing", "defaulted", "prepaid", "matured"}


def test_a_regional_shock_raises_risk_there_and_leaves_other_regions_untouched(pack) -> None:
    calm = SyntheticWorld(pack, seed=2, start=START)
    shocked = SyntheticWorld(pack, seed=2, start=START)
    shocked.shock(DriftShock(region="west", stress_multiplier=2.5), from_cycle=3)
    for _ in range(6):
        a, b = calm.advance(), shocked.advance()
    west_a, west_b = (a.records["region"] == "west").to_numpy(), (b.records["region"] == "west").to_numpy()
    assert b.true_pd[west_b].mean() > 1.5 * a.true_pd[west_a].mean()
    for column in ("delinquencies_30d", "recent_inquiries"):
        assert b.records.loc[west_b, column].mean() > 1.3 * a.records.loc[west_a, column].mean()
    assert b.records.loc[west_b, "credit_utilisation"].mean() > a.records.loc[west_a, "credit_utilisation"].mean()
    assert (b.performance["status"] == "defaulted").sum() > (a.performance["status"] == "defaulted").sum()
    # Other borrowers draw from the same per-borrower streams: their records and PDs are identical.
    pd.testing.assert_frame_equal(a.records[~west_a].reset_index(drop=True), b.records[~west_b].reset_index(drop=True))
    np.testing.assert_array_equal(a.true_pd[~west_a], b.true_pd[~west_b])


def test_a_shock_cannot_start_in_the_past(pack) -> None:
    world = SyntheticWorld(pack, seed=2, start=START)
    world.advance()
    with pytest.raises(ScoringValueError, match="earliest"):
        world.shock(DriftShock(industry="retail"), from_cycle=1)


def test_substitutes_join_the_world_and_get_records_from_the_next_cycle(pack) -> None:
    world = SyntheticWorld(pack.head(1_000), seed=2, start=START)
    world.advance()
    substitutes = generate_pack(200, seed=99, financier="sub", include_true_pd=True)
    world.add_loans(substitutes)
    cycle = world.advance()
    assert set(substitutes["loan_id"]) <= set(cycle.performance["loan_id"])
    performance = cycle.performance.set_index("loan_id").loc[substitutes["loan_id"]]
    performing = set(performance.loc[performance["status"] == "performing", "borrower_id"])
    assert set(substitutes["borrower_id"]) & set(cycle.records["borrower_id"]) == performing
    assert len(performing) > 120  # the others defaulted, prepaid, or had run to maturity already
    already_repaid = (substitutes["outstanding_balance_minor"] == 0).to_numpy()
    assert (performance["status"].to_numpy()[already_repaid] != "performing").all()
    with pytest.raises(ScoringValueError, match="unique"):
        world.add_loans(substitutes)
