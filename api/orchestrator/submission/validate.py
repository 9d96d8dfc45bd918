"""Validating a pack's columns, vectorised: a million rows in a few seconds, every problem counted.

Input is one text column per field (CSV cells, or JSON values already type-checked and turned
into text), so both formats go through the same checks: required values, integers in range,
ISO dates with maturity after origination, text lengths, collateral lists, and loan ids unique
within the pack. Uniqueness across live packs is the database's (``loan_claim``), at store time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from api.orchestrator.submission.fields import (
    ASSET_FIELDS,
    COLLATERAL_SEPARATOR,
    DATE_FIELDS,
    INTEGER_BOUNDS,
    INTEGER_FIELDS,
    MAX_COLLATERAL,
    MAX_TEXT,
    REQUIRED_FIELDS,
    TEXT_FIELDS,
)
from api.orchestrator.submission.problems import ProblemCollector

MAX_PACK_BALANCE = 2**63 - 1  # stored as a 64-bit integer (on chain it would fit 128 bits)


@dataclass(frozen=True)
class ValidAssets:
    """A pack's validated columns, in submission order."""

    loan_id: np.ndarray  # str
    borrower_id: np.ndarray  # str
    principal_minor: np.ndarray  # int64
    outstanding_balance_minor: np.ndarray  # int64
    annual_rate_bps: np.ndarray  # int64
    term_months: np.ndarray  # int64
    origination_date: np.ndarray  # str, YYYY-MM-DD
    maturity_date: np.ndarray  # str, YYYY-MM-DD
    collateral_ids: np.ndarray  # str, ';'-separated
    industry: np.ndarray  # str
    region: np.ndarray  # str

    def __len__(self) -> int:
        return int(self.loan_id.size)

    def column(self, name: str) -> np.ndarray:
        return getattr(self, name)

    @property
    def total_balance(self) -> int:
        # Exact: a million balances of up to 1e17 overflow int64.
        return int(self.outstanding_balance_minor.astype(object).sum())


def _text(values: np.ndarray) -> np.ndarray:
    return values if values.dtype.kind == "U" else values.astype(str)


def _shown(value: str, width: int = 40) -> str:
    return repr(value if len(value) <= width else value[:width] + "...")


def check_columns(raw: dict[str, np.ndarray], count: int, problems: ProblemCollector, today: date) -> ValidAssets | None:
    """Every check on every row; the columns if nothing was wrong, else None (see ``problems``)."""
    problems.size_rows(count)
    text = {name: _text(raw[name]) if name in raw else np.full(count, "", dtype="U1") for name in ASSET_FIELDS}
    empty = {name: text[name] == "" for name in ASSET_FIELDS}
    for name in REQUIRED_FIELDS:
        problems.add_mask(empty[name], name, lambda _row: "a value is required")

    for name in TEXT_FIELDS:
        values = text[name]
        lengths = np.char.str_len(values)
        problems.add_mask(lengths > MAX_TEXT, name, lambda row, v=values: f"longer than {MAX_TEXT} characters: {_shown(v[row])}")
        padded = ~empty[name] & (np.char.strip(values) != values)
        problems.add_mask(padded, name, lambda row, v=values: f"starts or ends with whitespace: {_shown(v[row])}")

    integers = {name: _integers(name, text[name], empty[name], problems) for name in INTEGER_FIELDS}
    dates = {name: _dates(name, text[name], empty[name], problems) for name in DATE_FIELDS}
    origination, maturity = dates["origination_date"], dates["maturity_date"]
    both = ~np.isnat(origination) & ~np.isnat(maturity)
    problems.add_mask(both & (maturity <= origination), "maturity_date",
                      lambda row: f"{text['maturity_date'][row]} is not after the origination date "
                                  f"{text['origination_date'][row]}")
    problems.add_mask(~np.isnat(origination) & (origination > np.datetime64(today, "D")), "origination_date",
                      lambda row: f"{text['origination_date'][row]} lies in the future (today is {today.isoformat()})")

    _collateral(text["collateral_ids"], problems)
    _unique_loan_ids(text["loan_id"], empty["loan_id"], problems)
    balances = integers["outstanding_balance_minor"]
    if not problems and not balances.any():
        problems.add(0, "outstanding_balance_minor", "every asset is repaid (outstanding balance 0): nothing to securitise")
    elif not problems and int(balances.astype(object).sum()) > MAX_PACK_BALANCE:
        problems.add(0, "outstanding_balance_minor", f"the pack's total balance exceeds {MAX_PACK_BALANCE} minor units")
    if problems:
        return None
    return ValidAssets(
        loan_id=text["loan_id"],
        borrower_id=text["borrower_id"],
        **{name: integers[name] for name in INTEGER_FIELDS},
        origination_date=text["origination_date"],
        maturity_date=text["maturity_date"],
        collateral_ids=text["collateral_ids"],
        industry=text["industry"],
        region=text["region"],
    )


def _integers(name: str, values: np.ndarray, empty: np.ndarray, problems: ProblemCollector) -> np.ndarray:
    bounds = INTEGER_BOUNDS[name]
    negative = np.char.startswith(values, "-")
    digits = np.where(negative, np.char.lstrip(values, "-"), values)
    well_formed = np.char.isdigit(digits) & (np.char.str_len(digits) <= 18) & ~empty
    bad_form = ~well_formed & ~empty
    problems.add_mask(bad_form, name, lambda row: f"not an integer number of {bounds.why}: {_shown(values[row])}")
    parsed = np.zeros(values.size, dtype=np.int64)
    try:
        parsed[well_formed] = values[well_formed].astype(np.int64)
    except ValueError:  # non-ASCII digits pass isdigit but not int64 parsing: find them one by one
        for position in np.flatnonzero(well_formed):
            try:
                parsed[position] = int(values[position].encode("ascii"))
            except (UnicodeEncodeError, ValueError):
                well_formed[position] = False
                problems.add(int(position) + 1, name, f"not an integer number of {bounds.why}: {_shown(values[position])}")
    low = well_formed & (parsed < bounds.lowest)
    high = well_formed & (parsed > bounds.highest)
    problems.add_mask(low, name, lambda row: f"{parsed[row]} is below the minimum {bounds.lowest} ({bounds.why})")
    problems.add_mask(high, name, lambda row: f"{parsed[row]} is above the maximum {bounds.highest} ({bounds.why})")
    return parsed


def _dates(name: str, values: np.ndarray, empty: np.ndarray, problems: ProblemCollector) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(values, copy=False), format="%Y-%m-%d", errors="coerce").to_numpy()
    parsed = parsed.astype("datetime64[D]")
    invalid = ~empty & (np.isnat(parsed) | (np.char.str_len(values) != 10))
    problems.add_mask(invalid, name, lambda row: f"not a date as YYYY-MM-DD: {_shown(values[row])}")
    parsed[invalid] = np.datetime64("NaT")
    return parsed


def _collateral(values: np.ndarray, problems: ProblemCollector) -> None:
    present = values != ""
    sep = COLLATERAL_SEPARATOR
    malformed = present & (
        np.char.startswith(values, sep) | np.char.endswith(values, sep) | (np.char.find(values, sep + sep) >= 0)
        | (np.char.find(values, " " + sep) >= 0) | (np.char.find(values, sep + " ") >= 0)
    )
    problems.add_mask(malformed, "collateral_ids",
                      lambda row: f"collateral ids must be non-empty and separated by '{sep}': {_shown(values[row])}")
    problems.add_mask(np.char.str_len(values) > MAX_COLLATERAL, "collateral_ids",
                      lambda _row: f"longer than {MAX_COLLATERAL} characters")


def _unique_loan_ids(loan_ids: np.ndarray, empty: np.ndarray, problems: ProblemCollector) -> None:
    series = pd.Series(loan_ids, copy=False)
    repeated = series.duplicated(keep="first").to_numpy() & ~empty
    if not repeated.any():
        return
    firsts = pd.Series(np.arange(loan_ids.size), index=series).groupby(level=0).first()
    problems.add_mask(repeated, "loan_id",
                      lambda row: f"loan id {_shown(loan_ids[row])} already appears on row {int(firsts[loan_ids[row]]) + 1}")
