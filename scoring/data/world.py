"""A drifting synthetic world: the loans of a generated pack, living month by month after issuance.

Each borrower keeps the hidden stress s of `scoring.data.synthetic` and gains a stress
multiplier m (1.0 at the start): log m follows an AR(1) around 0 with `persistence` and
`volatility`, and a scheduled `DriftShock` multiplies m of the borrowers it hits from its
cycle on. Every month (`advance`) the observable credit columns are re-derived from the
borrower's base record at stress s x m, moving exactly as `_population` makes them move
with stress (deposits, debt, delinquency and inquiry counts, utilisation, equipment
utilisation and logistics), so m == 1 gives back the base record. The 12-month true PD
is the base PD shifted by the change of the generator's log-odds.

The pack does not carry s; it is recovered from the base record and `true_pd` by
inverting the log-odds (exact up to rounding where the record is complete; values
missing from the record are imputed at typical values, so s is rough for those 3-8% of
borrowers). Counts move by quantile coupling: each borrower keeps one uniform consistent
with its base count, and the count changes by how far the Poisson quantile of that
uniform moves with the rate. Age and credit-history length are held at their base values.

Events of the month ending at cycle t use the PD of cycle t-1's records (a downturn shows
in the records first and in defaults a month later): default with 1-(1-pd)^(1/12), else
prepay with `prepay_monthly`, else amortise linearly to zero at maturity ("matured").
Defaulted loans keep their balance at default; prepaid and matured ones go to 0; none of
them gets records any more.

Every draw comes from a stream keyed by (seed, cycle, purpose) and indexed by borrower,
so the same seed replays the same world, and a shock leaves the draws, records and
events of the borrowers it does not hit exactly as they were.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.data import synthetic as syn
from scoring.data.schema import CREDIT_RECORD, EMPLOYMENT_TYPES, INDUSTRIES, REGIONS
from scoring.errors import ScoringValueError

PERFORMING, DEFAULTED, PREPAID, MATURED = 0, 1, 2, 3
STATUSES = np.array(["performing", "defaulted", "prepaid", "matured"], dtype=object)
_COUNTS = ("delinquencies_30d", "delinquencies_60d", "delinquencies_90d_plus", "recent_inquiries")
_LOAN_COLUMNS = ("loan_id", "outstanding_balance_minor", "maturity_date", "true_pd")
_MAX_LOG_STRESS = 2.5  # ~3 standard deviations of the generator's log-normal stress


@dataclass(frozen=True)
class WorldCycle:
    """One month: fresh records of the performing borrowers (with their true PDs, same order) and every loan's status."""

    cycle: int
    as_of: dt.date
    records: pd.DataFrame
    performance: pd.DataFrame
    true_pd: np.ndarray


def _month(start: dt.date, months: int) -> dt.date:
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


def _codes(column: pd.Series, labels: tuple[str, ...], name: str) -> np.ndarray:
    codes = pd.Categorical(column.astype(object), categories=list(labels)).codes.astype(np.int64)
    if (codes < 0).any():
        raise ScoringValueError(f"{name} holds values outside {labels}")
    return codes


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=float, na_value=np.nan)


def _poisson_cdf_around(count: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(N <= count - 1) and P(N <= count) for N ~ Poisson(rate)."""
    below, at = np.zeros(count.size), np.zeros(count.size)
    pmf = np.exp(-rate)
    cdf = pmf.copy()
    for j in range(int(count.max(initial=0)) + 1):
        if j:
            pmf = pmf * rate / j
            cdf = cdf + pmf
        below = np.where(count - 1 == j, cdf, below)
        at = np.where(count == j, cdf, at)
    return below, at


def _latent(arrays: dict[str, np.ndarray], stress: np.ndarray, counts: dict[str, np.ndarray]) -> np.ndarray:
    """The generator's log-odds of these observables at this stress."""
    return syn.log_odds(arrays["income"], arrays["deposits"], arrays["dti"], arrays["history"],
                        counts["delinquencies_30d"], counts["delinquencies_60d"], counts["delinquencies_90d_plus"],
                        arrays["utilisation"], counts["recent_inquiries"], arrays["age"], arrays["employment"],
                        arrays["industry"], arrays["region"], arrays["equipment"], stress)


def _borrowers(frame: pd.DataFrame, seed: int, batch: int, entry: dt.date) -> dict[str, np.ndarray]:
    """Per-borrower state of a batch of loans entering the world on `entry`."""
    missing = [c for c in CREDIT_RECORD.names + _LOAN_COLUMNS if c not in frame.columns]
    if missing:
        raise ScoringValueError(f"the world needs generate_pack(..., include_true_pd=True) columns; missing {missing}")
    n = len(frame)
    b = {"loan_id": frame["loan_id"].astype(str).to_numpy(dtype=object),
         "borrower_id": frame["borrower_id"].astype(str).to_numpy(dtype=object)}
    income = _numbers(frame["annual_income_minor"]) / 100
    age = _numbers(frame["age_years"])
    b.update(income=income, age=age, employment=_codes(frame["employment_type"], EMPLOYMENT_TYPES, "employment_type"),
             industry=_codes(frame["industry"], INDUSTRIES, "industry"), region=_codes(frame["region"], REGIONS, "region"))
    # Missing values get typical values so the log-odds can be inverted (see the module doc).
    for name, column, typical in (("deposits", "deposits_minor", income * np.exp(-1.2) * 100),
                                  ("history", "credit_history_months", np.minimum((age - 18) * 12, 105.0)),
                                  ("utilisation", "credit_utilisation", np.full(n, 1 / 3))):
        observed = _numbers(frame[column])
        b[name] = np.where(np.isnan(observed), typical, observed) / (100 if name == "deposits" else 1)
    b["dti"] = _numbers(frame["outstanding_debt_minor"]) / _numbers(frame["annual_income_minor"])
    b["equipment"] = _numbers(frame["equipment_utilisation"])
    counts = {name: _numbers(frame[name]).astype(np.int64) for name in _COUNTS}
    for name, values in counts.items():
        b[name] = values
    pd0 = _numbers(frame["true_pd"])
    b["logit0"] = np.log(pd0) - np.log1p(-pd0)
    log_stress = (b["logit0"] - _latent(b, np.ones(n), counts)) / syn.HIDDEN_STRESS_WEIGHT
    b["stress"] = np.exp(np.clip(log_stress, -_MAX_LOG_STRESS, _MAX_LOG_STRESS))
    b["log_odds0"] = _latent(b, b["stress"], counts)
    for j, (name, rate) in enumerate(syn.count_rates(b["stress"]).items()):
        below, at = _poisson_cdf_around(counts[name], rate)
        v = 1.0 - np.random.default_rng([seed, 1, batch, j]).random(n)  # in (0, 1]
        b[f"u_{name}"] = below + v * (at - below)
        b[f"q0_{name}"] = syn.poisson_quantile(b[f"u_{name}"], rate)
    maturity = frame["maturity_date"].to_numpy().astype("datetime64[D]")
    b.update(maturity=maturity, remaining0=np.maximum((maturity - np.datetime64(entry, "D")).astype(np.int64), 0),
             balance0=_numbers(frame["outstanding_balance_minor"]).astype(np.int64),
             balance=_numbers(frame["outstanding_balance_minor"]).astype(np.int64),
             status=np.full(n, PERFORMING, dtype=np.int8), log_m=np.zeros(n), pd=pd0.copy())
    return b


class SyntheticWorld:
    """The loans of `pack` drifting month by month; see the module doc for the model."""

    def __init__(self, pack: pd.DataFrame, *, seed: int, start: dt.date, volatility: float = 0.05,
                 persistence: float = 0.8, prepay_monthly: float = 0.01) -> None:
        if not 0 <= persistence < 1 or volatility < 0 or not 0 <= prepay_monthly < 1:
            raise ScoringValueError("need 0 <= persistence < 1, volatility >= 0 and 0 <= prepay_monthly < 1")
        self.seed, self.start = seed, start
        self.volatility, self.persistence, self.prepay_monthly = volatility, persistence, prepay_monthly
        self.cycle = 0
        self._batches = 0
        self._shocks: list[tuple[syn.DriftShock, int]] = []
        self._state: dict[str, np.ndarray] = {}
        self._records = pd.DataFrame()
        self.add_loans(pack)

    @property
    def as_of(self) -> dt.date:
        return _month(self.start, self.cycle)

    def add_loans(self, frame: pd.DataFrame) -> None:
        """Bring loans (e.g. substitutes from another `generate_pack`) into the world as of the current cycle."""
        batch = _borrowers(frame.reset_index(drop=True), self.seed, self._batches, self.as_of)
        for key in ("loan_id", "borrower_id"):
            known = set(self._state.get(key, ()))
            if len(set(batch[key])) != batch[key].size or known & set(batch[key]):
                raise ScoringValueError(f"{key} must be unique across the world's loans")
        self._state = {k: np.concatenate([self._state[k], v]) if self._state else v for k, v in batch.items()}
        records = frame[list(CREDIT_RECORD.names)].reset_index(drop=True)
        self._records = records if self._records.empty else pd.concat([self._records, records], ignore_index=True)
        self._batches += 1

    def shock(self, s: syn.DriftShock, from_cycle: int | None = None) -> None:
        """Multiply m of the borrowers `s` hits by its stress_multiplier from `from_cycle` (default: the next) on."""
        cycle = self.cycle + 1 if from_cycle is None else from_cycle
        if cycle <= self.cycle:
            raise ScoringValueError(f"cycle {self.cycle} has been simulated; a shock can start at {self.cycle + 1} at the earliest")
        self._shocks.append((s, cycle))

    def _draws(self, purpose: int, kind: str = "uniform") -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0, self.cycle, purpose])
        n = self._state["status"].size
        return rng.standard_normal(n) if kind == "normal" else rng.random(n)

    def _month_of_events(self, as_of: dt.date) -> np.ndarray:
        st = self._state
        before_status, before_balance = st["status"].copy(), st["balance"].copy()
        performing = st["status"] == PERFORMING
        monthly_pd = -np.expm1(np.log1p(-st["pd"]) / 12)
        defaulted = performing & (self._draws(1) < monthly_pd)
        prepaid = performing & ~defaulted & (self._draws(2) < self.prepay_monthly)
        st["status"][defaulted], st["status"][prepaid], st["balance"][prepaid] = DEFAULTED, PREPAID, 0
        running = performing & ~defaulted & ~prepaid
        remaining = np.maximum((st["maturity"] - np.datetime64(as_of, "D")).astype(np.int64), 0)
        scheduled = (2 * st["balance0"] * remaining + st["remaining0"]) // np.maximum(2 * st["remaining0"], 1)
        st["balance"][running] = np.where(st["remaining0"] > 0, scheduled, 0)[running]
        st["status"][running & (remaining == 0)] = MATURED
        st["balance"][st["status"] == MATURED] = 0
        return (st["status"] != before_status) | (st["balance"] != before_balance)

    def _multiplier(self) -> np.ndarray:
        st = self._state
        st["log_m"] = self.persistence * st["log_m"] + self.volatility * self._draws(0, "normal")
        m = np.exp(st["log_m"])
        for s, cycle in self._shocks:
            if cycle <= self.cycle:
                hit = np.ones(m.size, dtype=bool)
                if s.region is not None:
                    hit &= st["region"] == REGIONS.index(s.region)
                if s.industry is not None:
                    hit &= st["industry"] == INDUSTRIES.index(s.industry)
                m = np.where(hit, m * s.stress_multiplier, m)
        return m

    def _observe(self, live: np.ndarray, m: np.ndarray, as_of: dt.date) -> tuple[pd.DataFrame, np.ndarray]:
        b = {k: v[live] for k, v in self._state.items()}
        s0, s1 = b["stress"], b["stress"] * m[live]
        moved = dict(b, deposits=b["deposits"] * (syn.deposit_divisor(s0) / syn.deposit_divisor(s1)),
                     dti=b["dti"] * (syn.debt_factor(s1) / syn.debt_factor(s0)),
                     utilisation=np.clip(b["utilisation"] * (syn.utilisation_factor(s1) / syn.utilisation_factor(s0)), 0, 1.5),
                     equipment=np.clip(b["equipment"] * (syn.equipment_divisor(s0) / syn.equipment_divisor(s1)), 0, 1))
        counts = {name: np.maximum(b[name] + syn.poisson_quantile(b[f"u_{name}"], rate) - b[f"q0_{name}"], 0)
                  for name, rate in syn.count_rates(s1).items()}
        log_odds = b["logit0"] + _latent(moved, s1, counts) - b["log_odds0"]
        true_pd = 1.0 / (1.0 + np.exp(-log_odds))

        records = self._records.iloc[np.flatnonzero(live)].reset_index(drop=True)
        base = {c: _numbers(records[c]) for c in ("deposits_minor", "outstanding_debt_minor", "credit_utilisation",
                                                  "equipment_utilisation", "logistics_volume")}
        records["record_date"] = np.datetime64(as_of, "s")
        records["deposits_minor"] = pd.array(np.round(base["deposits_minor"] * (moved["deposits"] / b["deposits"])), dtype="Int64")
        records["outstanding_debt_minor"] = np.round(base["outstanding_debt_minor"] * (syn.debt_factor(s1) / syn.debt_factor(s0))).astype(np.int64)
        for name, values in counts.items():
            records[name] = values.astype(np.int64)
        records["credit_utilisation"] = np.where(np.isnan(base["credit_utilisation"]), np.nan, np.round(moved["utilisation"], 4))
        records["equipment_utilisation"] = np.round(moved["equipment"], 4)
        throughput = np.clip(moved["equipment"], 0.05, 1.0) / np.clip(b["equipment"], 0.05, 1.0)
        records["logistics_volume"] = pd.array(np.round(base["logistics_volume"] * throughput), dtype="Int64")
        return records, true_pd

    def advance(self) -> WorldCycle:
        """Simulate one month and return what it produced."""
        self.cycle += 1
        as_of = self.as_of
        changed = self._month_of_events(as_of)
        m = self._multiplier()
        st = self._state
        live = st["status"] == PERFORMING
        records, true_pd = self._observe(live, m, as_of)
        st["pd"][live] = true_pd
        performance = pd.DataFrame({
            "loan_id": st["loan_id"], "borrower_id": st["borrower_id"], "status": STATUSES[st["status"]],
            "outstanding_balance_minor": st["balance"].copy(), "as_of": np.datetime64(as_of, "s"), "changed": changed,
        })
        return WorldCycle(self.cycle, as_of, records, performance, true_pd)
