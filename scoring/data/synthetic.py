"""A seeded synthetic borrower population with a known default model.

Every borrower carries a hidden "financial stress" factor. It drives the observable
credit data (delinquencies, utilisation, inquiries) and, with the observables,
the true 12-month probability of default (`true_pd`). Because part of the stress
stays hidden, no model can score perfectly, as with real data.

Structure a scorecard must cope with: log-normal incomes, debt-to-income, an
interaction (high utilisation hurts more after a delinquency), a non-monotone age
effect, industry and regional effects (seed 001), enterprise operating indicators
that exist only for enterprise borrowers (seed 000), and values missing at random.

`DriftShock` is the monitoring hook: it raises the hidden stress of one region or
industry, so both the fresh credit data and the true PDs move, as a real downturn
would show up to a monthly re-scoring.

Everything is vectorised numpy: a million assets take a few seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.data.schema import EMPLOYMENT_TYPES, INDUSTRIES, REGIONS, TARGET

# Shares of the population and log-odds effects on default, by category.
_EMPLOYMENT_SHARES = np.array([0.55, 0.14, 0.20, 0.06, 0.05])
_EMPLOYMENT_EFFECT = np.array([0.0, 0.25, 0.10, -0.10, 0.80])
_INDUSTRY_SHARES = np.array([0.18, 0.16, 0.10, 0.08, 0.10, 0.18, 0.10, 0.10])
_INDUSTRY_EFFECT = np.array([0.00, 0.20, 0.10, 0.15, 0.40, -0.05, -0.30, 0.50])
_REGION_SHARES = np.array([0.20, 0.20, 0.22, 0.12, 0.14, 0.12])
_REGION_EFFECT = np.array([-0.10, 0.05, -0.20, 0.25, 0.00, 0.35])
# Chosen once so that the population's mean true PD is about 7%.
_INTERCEPT = -4.35
_MINOR_PER_MAJOR = 100


@dataclass(frozen=True)
class DriftShock:
    """Raise the hidden financial stress of borrowers in one region and/or industry.

    `stress_multiplier` multiplies the stress factor; 2.0 roughly doubles their
    delinquency counts and raises their PDs accordingly.
    """

    region: str | None = None
    industry: str | None = None
    stress_multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.region is None and self.industry is None:
            raise ValueError("a shock needs a region or an industry")
        if self.region is not None and self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region!r}; expected one of {REGIONS}")
        if self.industry is not None and self.industry not in INDUSTRIES:
            raise ValueError(f"unknown industry {self.industry!r}; expected one of {INDUSTRIES}")
        if not self.stress_multiplier > 0:
            raise ValueError("stress_multiplier must be positive")


def _categorical(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(labels))


def _missing_at_random(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    values = values.astype(float)
    values[rng.random(values.size) < share] = np.nan
    return values


def _nullable_int(values: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.array(np.round(values), dtype="Int64") if np.isnan(values).any() else pd.array(values.astype(np.int64), dtype="Int64")


def poisson_quantile(uniform: np.ndarray, rate: np.ndarray, max_count: int = 40) -> np.ndarray:
    """Poisson counts by inverting the CDF of one uniform per row.

    numpy's own Poisson sampler consumes a rate-dependent number of random numbers,
    so a shock on some rows would reshuffle every later row; inversion keeps the
    rows a shock does not touch exactly as they were.
    """
    pmf = np.exp(-rate)
    cdf = pmf.copy()
    count = np.zeros(uniform.shape, dtype=np.int64)
    active = np.flatnonzero(uniform > cdf)  # most rows stop at 0 or 1: iterate on the rest only
    for k in range(1, max_count + 1):
        if active.size == 0:
            break
        count[active] = k
        pmf[active] *= rate[active] / k
        cdf[active] += pmf[active]
        active = active[uniform[active] > cdf[active]]
    return count


# How the hidden stress s moves each observable (shared with `scoring.data.world`).
#: Weight of log(s) in the log-odds: the part of stress no credit record shows.
HIDDEN_STRESS_WEIGHT = 0.35


def deposit_divisor(stress: np.ndarray) -> np.ndarray:
    return np.sqrt(stress)


def debt_factor(stress: np.ndarray) -> np.ndarray:
    return 0.7 + 0.3 * stress


def utilisation_factor(stress: np.ndarray) -> np.ndarray:
    return 0.6 + 0.4 * stress


def equipment_divisor(stress: np.ndarray) -> np.ndarray:
    return 0.8 + 0.2 * stress


def count_rates(stress: np.ndarray) -> dict[str, np.ndarray]:
    """Poisson rates of the count columns for a given stress."""
    return {
        "delinquencies_30d": 0.25 * stress,
        "delinquencies_60d": 0.10 * stress,
        "delinquencies_90d_plus": 0.04 * stress,
        "recent_inquiries": 0.8 + 0.6 * stress,
    }


def log_odds(income: np.ndarray, deposits: np.ndarray, debt_to_income: np.ndarray, history: np.ndarray,
             d30: np.ndarray, d60: np.ndarray, d90: np.ndarray, utilisation: np.ndarray, inquiries: np.ndarray,
             age: np.ndarray, employment: np.ndarray, industry: np.ndarray, region: np.ndarray,
             equipment: np.ndarray, stress: np.ndarray) -> np.ndarray:
    """The true default log-odds (12 months); income and deposits in major units, categories as codes."""
    any_delinquency = (d30 + d60 + d90) > 0
    is_enterprise = employment == 2
    return (
        _INTERCEPT
        - 0.45 * (np.log(income) - 10.9)
        - 0.12 * np.log1p(deposits / income)
        + 0.90 * np.minimum(debt_to_income, 3.0)
        - 0.004 * np.minimum(history, 240)
        + 0.30 * np.minimum(d30, 6) + 0.55 * np.minimum(d60, 4) + 0.95 * np.minimum(d90, 3)
        + 1.10 * utilisation + 0.90 * utilisation * any_delinquency
        + 0.10 * np.minimum(inquiries, 10)
        + 0.0012 * (age - 45) ** 2 - 0.25
        + _EMPLOYMENT_EFFECT[employment] + _INDUSTRY_EFFECT[industry] + _REGION_EFFECT[region]
        - np.where(is_enterprise, 1.5 * (np.nan_to_num(equipment, nan=0.65) - 0.65), 0.0)
        + HIDDEN_STRESS_WEIGHT * np.log(stress)
    )


def _population(rng: np.random.Generator, n: int, shock: DriftShock | None) -> tuple[dict, np.ndarray]:
    """Credit-record columns and the true PD of `n` borrowers."""
    employment = rng.choice(len(EMPLOYMENT_TYPES), n, p=_EMPLOYMENT_SHARES)
    industry = rng.choice(len(INDUSTRIES), n, p=_INDUSTRY_SHARES)
    region = rng.choice(len(REGIONS), n, p=_REGION_SHARES)
    age = np.clip(rng.normal(42, 12, n), 18, 85).astype(np.int64)

    stress = rng.lognormal(0.0, 0.8, n)
    if shock is not None:
        hit = np.ones(n, dtype=bool)
        if shock.region is not None:
            hit &= region == REGIONS.index(shock.region)
        if shock.industry is not None:
            hit &= industry == INDUSTRIES.index(shock.industry)
        stress = np.where(hit, stress * shock.stress_multiplier, stress)

    log_income = 10.9 + 0.25 * (employment == 2) - 0.6 * (employment == 4) + 0.012 * (np.minimum(age, 55) - 40)
    income = np.exp(log_income + rng.normal(0, 0.55, n))  # major units, log-normal
    deposits = income * np.exp(rng.normal(-1.2, 1.1, n)) / deposit_divisor(stress)
    debt_to_income = rng.gamma(2.0, 0.22, n) * (rng.random(n) > 0.15) * debt_factor(stress)
    debt = income * debt_to_income
    history = np.minimum((age - 18) * 12, rng.gamma(3.0, 35.0, n)).astype(float)

    rates = count_rates(stress)
    d30 = poisson_quantile(rng.random(n), rates["delinquencies_30d"])
    d60 = poisson_quantile(rng.random(n), rates["delinquencies_60d"])
    d90 = poisson_quantile(rng.random(n), rates["delinquencies_90d_plus"])
    utilisation = np.clip(rng.beta(2.0, 4.0, n) * utilisation_factor(stress), 0.0, 1.5)
    inquiries = poisson_quantile(rng.random(n), rates["recent_inquiries"])

    is_enterprise = employment == 2
    equipment = np.where(is_enterprise, rng.beta(6.0, 3.0, n) / equipment_divisor(stress), np.nan)
    equipment = np.clip(equipment, 0.0, 1.0)
    energy = np.where(is_enterprise, rng.lognormal(3.0, 0.5, n), np.nan)
    logistics = np.where(is_enterprise, np.round(rng.lognormal(5.0, 0.9, n) * np.clip(equipment, 0.05, 1.0)), np.nan)

    true_pd = 1.0 / (1.0 + np.exp(-log_odds(income, deposits, debt_to_income, history, d30, d60, d90, utilisation,
                                            inquiries, age, employment, industry, region, equipment, stress)))

    columns = {
        "annual_income_minor": np.round(income * _MINOR_PER_MAJOR).astype(np.int64),
        "deposits_minor": _nullable_int(_missing_at_random(rng, deposits * _MINOR_PER_MAJOR, 0.08)),
        "outstanding_debt_minor": np.round(debt * _MINOR_PER_MAJOR).astype(np.int64),
        "credit_history_months": _nullable_int(_missing_at_random(rng, history, 0.03)),
        "delinquencies_30d": d30.astype(np.int64),
        "delinquencies_60d": d60.astype(np.int64),
        "delinquencies_90d_plus": d90.astype(np.int64),
        "credit_utilisation": np.round(_missing_at_random(rng, utilisation, 0.05), 4),
        "recent_inquiries": inquiries.astype(np.int64),
        "age_years": age,
        "employment_type": _categorical(employment, EMPLOYMENT_TYPES),
        "industry": _categorical(industry, INDUSTRIES),
        "region": _categorical(region, REGIONS),
        "equipment_utilisation": np.round(equipment, 4),
        "energy_intensity": np.round(energy, 3),
        "logistics_volume": _nullable_int(logistics),
    }
    return columns, true_pd


def _serials(n: int) -> np.ndarray:
    return np.char.zfill(np.arange(n).astype("U9"), 9)


def _add_months(dates: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Same day of month `months` later, clipped to the end of shorter months."""
    month_start = dates.astype("datetime64[M]")
    day_offset = (dates - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + months
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day_offset, month_len - 1)


def _loans(rng: np.random.Generator, n: int, prefix: str, true_pd: np.ndarray, income_minor: np.ndarray,
           first_day: np.datetime64, days: int, as_of: np.datetime64) -> dict:
    term = rng.choice(np.array([12, 24, 36, 48, 60]), n)
    principal = np.round(income_minor * rng.uniform(0.05, 0.6, n), -2).astype(np.int64) + 100_00
    origination = first_day + rng.integers(0, days, n).astype("timedelta64[D]")
    maturity = _add_months(origination, term)
    elapsed = np.clip((as_of - origination).astype(np.int64) / 30.44, 0, term)
    outstanding = np.round(principal * (1.0 - elapsed / term)).astype(np.int64)
    # Risk-based pricing: riskier borrowers pay more, so the rate leaks PD as in real books.
    rate_bps = (350 + np.round(2500 * true_pd) + rng.integers(0, 150, n)).astype(np.int64)
    serials = _serials(n)
    collateral_count = rng.choice(3, n, p=[0.4, 0.45, 0.15])
    collateral = np.full(n, "", dtype=object)
    one, two = collateral_count == 1, collateral_count == 2
    collateral[one] = np.char.add(np.char.add(f"{prefix}C", serials[one]), "-1")
    stem = np.char.add(f"{prefix}C", serials[two])
    collateral[two] = np.char.add(np.char.add(stem, "-1;"), np.char.add(stem, "-2"))
    return {
        "loan_id": np.char.add(f"{prefix}L", serials),
        "borrower_id": np.char.add(f"{prefix}B", serials),
        "principal_minor": principal,
        "outstanding_balance_minor": outstanding,
        "annual_rate_bps": rate_bps,
        "term_months": term.astype(np.int64),
        "origination_date": origination.astype("datetime64[s]"),
        "maturity_date": maturity.astype("datetime64[s]"),
        "collateral_ids": collateral,
    }


def _frame(loans: dict, credit: dict, record_date: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(loans)
    for name in ("industry", "region"):
        frame[name] = credit[name]
    frame["record_date"] = record_date
    for name, values in credit.items():
        if name not in frame.columns:
            frame[name] = values
    return frame


def generate_history(n: int, seed: int, shock: DriftShock | None = None, id_prefix: str = "hist-") -> pd.DataFrame:
    """`n` historical loans (2019-2023) with credit records, `true_pd` and the outcome `defaulted` (0/1)."""
    if n <= 0:
        raise ValueError("n must be positive")
    rng = np.random.default_rng(seed)
    credit, true_pd = _population(rng, n, shock)
    loans = _loans(rng, n, id_prefix, true_pd, credit["annual_income_minor"],
                   np.datetime64("2019-01-01"), 5 * 365, np.datetime64("2024-12-31"))
    frame = _frame(loans, credit, loans["origination_date"])
    frame["true_pd"] = true_pd
    frame[TARGET] = (rng.random(n) < true_pd).astype(np.int8)
    return frame


def generate_pack(n: int, seed: int, financier: str = "fin", shock: DriftShock | None = None,
                  id_prefix: str | None = None, as_of: dt.date = dt.date(2025, 6, 30),
                  include_true_pd: bool = False) -> pd.DataFrame:
    """`n` current assets of one financier: loan fields and the borrower's credit record.

    Ids are `{id_prefix}L000000000...`; the default prefix `"{financier}-{seed}-"`
    keeps packs of different financiers or seeds from colliding. `include_true_pd`
    adds the generator's PD, which only a test or a simulation should see.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    prefix = f"{financier}-{seed}-" if id_prefix is None else id_prefix
    # Offset the seed so a pack never replays the draws of the history with the same seed.
    rng = np.random.default_rng([seed, 1])
    credit, true_pd = _population(rng, n, shock)
    as_of_day = np.datetime64(as_of, "D")
    loans = _loans(rng, n, prefix, true_pd, credit["annual_income_minor"],
                   as_of_day - np.timedelta64(3 * 365, "D"), 3 * 365, as_of_day)
    record_dates = (as_of_day - rng.integers(0, 28, n).astype("timedelta64[D]")).astype("datetime64[s]")
    frame = _frame(loans, credit, record_dates)
    if include_true_pd:
        frame["true_pd"] = true_pd
    return frame
