import numpy as np
import pandas as pd
import pytest

from scoring.data.schema import ASSET, CREDIT_RECORD, TARGET
from scoring.data.synthetic import DriftShock, generate_history, generate_pack


@pytest.fixture(scope="module")
def history():
    return generate_history(40_000, seed=11)


def test_same_seed_same_data_other_seed_other_data():
    pd.testing.assert_frame_equal(generate_history(500, seed=3), generate_history(500, seed=3))
    assert not generate_history(500, seed=3)["true_pd"].equals(generate_history(500, seed=4)["true_pd"])


def test_bad_rate_is_realistic_and_outcomes_follow_true_pd(history):
    bad_rate = history[TARGET].mean()
    assert 0.05 <= bad_rate <= 0.10
    # The outcome is a Bernoulli draw of true_pd: the two rates agree within 4 binomial standard errors.
    se = np.sqrt(bad_rate * (1 - bad_rate) / len(history))
    assert abs(history["true_pd"].mean() - bad_rate) < 4 * se
    riskiest = history["true_pd"] > history["true_pd"].quantile(0.9)
    assert history.loc[riskiest, TARGET].mean() > 3 * history.loc[~riskiest, TARGET].mean()


def test_history_conforms_to_the_asset_schema(history):
    assert ASSET.violations(history) == []


def test_incomes_are_log_normal_and_skewed(history):
    income = history["annual_income_minor"]
    assert income.mean() > 1.1 * income.median()
    log_income = np.log(income)
    assert abs(log_income.mean() - log_income.median()) < 0.05


def test_values_go_missing_and_enterprise_indicators_only_exist_for_enterprises(history):
    assert 0.05 < history["deposits_minor"].isna().mean() < 0.11
    enterprise = history["employment_type"] == "enterprise"
    assert history.loc[~enterprise, "equipment_utilisation"].isna().all()
    assert history.loc[enterprise, "equipment_utilisation"].notna().all()


def test_industry_region_and_interaction_effects(history):
    by_industry = history.groupby("industry", observed=True)["true_pd"].mean()
    assert by_industry["hospitality"] > 1.3 * by_industry["technology"]
    by_region = history.groupby("region", observed=True)["true_pd"].mean()
    assert by_region["northeast"] > 1.3 * by_region["east"]
    # High utilisation hurts more once a borrower has been late: the odds ratio grows.
    late = (history["delinquencies_30d"] + history["delinquencies_60d"] + history["delinquencies_90d_plus"]) > 0
    high = history["credit_utilisation"] > 0.6
    low = history["credit_utilisation"] < 0.2
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    gap_late = logit(history.loc[late & high, "true_pd"].mean()) - logit(history.loc[late & low, "true_pd"].mean())
    gap_clean = logit(history.loc[~late & high, "true_pd"].mean()) - logit(history.loc[~late & low, "true_pd"].mean())
    assert gap_late > gap_clean + 0.2


def test_pack_ids_are_unique_and_prefixed_so_packs_do_not_collide():
    a = generate_pack(5_000, seed=1, financier="bank-a")
    b = generate_pack(5_000, seed=1, financier="bank-b")
    c = generate_pack(5_000, seed=2, financier="bank-a")
    assert a["loan_id"].is_unique and a["borrower_id"].is_unique
    assert a["loan_id"].iloc[0] == "bank-a-1-L000000000"
    assert not set(a["loan_id"]) & set(b["loan_id"])
    assert not set(a["loan_id"]) & set(c["loan_id"])
    assert generate_pack(10, seed=1, id_prefix="X")["loan_id"].iloc[3] == "XL000000003"


def test_pack_loans_are_consistent(history):
    pack = generate_pack(20_000, seed=5, include_true_pd=True)
    assert ASSET.violations(pack) == []
    assert (pack["outstanding_balance_minor"] <= pack["principal_minor"]).all()
    months = (pack["maturity_date"].dt.year - pack["origination_date"].dt.year) * 12 + (
        pack["maturity_date"].dt.month - pack["origination_date"].dt.month)
    assert (months == pack["term_months"]).all()
    assert (pack["maturity_date"].dt.day <= pack["origination_date"].dt.day).all()
    assert "true_pd" not in generate_pack(10, seed=5).columns
    assert set(CREDIT_RECORD.names) <= set(pack.columns)
    # Same population as the history: PDs agree on average.
    assert abs(pack["true_pd"].mean() - history["true_pd"].mean()) < 0.005


def test_shock_raises_risk_only_where_it_hits():
    base = generate_pack(60_000, seed=9, include_true_pd=True)
    shocked = generate_pack(60_000, seed=9, include_true_pd=True, shock=DriftShock(region="west", stress_multiplier=2.5))
    hit, spared = base["region"] == "west", base["region"] != "west"
    assert shocked.loc[hit, "true_pd"].mean() > 1.5 * base.loc[hit, "true_pd"].mean()
    assert shocked.loc[hit, "delinquencies_30d"].mean() > 1.5 * base.loc[hit, "delinquencies_30d"].mean()
    np.testing.assert_allclose(shocked.loc[spared, "true_pd"], base.loc[spared, "true_pd"])


def test_shock_and_sizes_are_validated():
    with pytest.raises(ValueError):
        DriftShock()
    with pytest.raises(ValueError):
        DriftShock(industry="piracy")
    with pytest.raises(ValueError):
        generate_pack(0, seed=1)
