"""Field specifications for borrower credit records and the loans of an asset pack.

One `FieldSpec` per column carries everything a consumer needs without pandas:
its type, unit, bounds, whether it is required, and (for model features) the
direction in which larger values move risk. The API layer builds its pydantic
models from `RecordSchema.metadata()`; the loaders and generator use
`pandas_dtypes()` and `violations()`.

Money is in integer minor units (cents, fen), rates in basis points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

FieldKind = Literal["integer", "decimal", "category", "text", "date", "id_list"]

#: pandas dtype used for each kind; integers are nullable so optional fields keep NA.
_PANDAS_DTYPES: dict[str, str] = {
    "integer": "Int64",
    "decimal": "float64",
    "category": "category",
    "text": "str",
    "date": "datetime64[s]",
    "id_list": "str",
}

#: Numeric kinds a model may bin; categories are grouped instead.
NUMERIC_KINDS = frozenset({"integer", "decimal"})

EMPLOYMENT_TYPES: tuple[str, ...] = ("employed", "self_employed", "enterprise", "retired", "unemployed")
#: Values the synthetic population uses; real data may carry other industries and regions.
INDUSTRIES: tuple[str, ...] = (
    "manufacturing", "retail", "logistics", "agriculture",
    "construction", "services", "technology", "hospitality",
)
REGIONS: tuple[str, ...] = ("north", "south", "east", "west", "central", "northeast")


@dataclass(frozen=True)
class FieldSpec:
    """One column: what it holds, in which unit, and which values are valid."""

    name: str
    kind: FieldKind
    unit: str
    description: str
    required: bool = True
    lower: float | None = None
    upper: float | None = None
    categories: tuple[str, ...] | None = None
    #: +1: a larger value means more risk; -1: less risk; 0: unknown or not monotone.
    risk_direction: int = 0

    @property
    def pandas_dtype(self) -> str:
        return _PANDAS_DTYPES[self.kind]

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def metadata(self) -> dict:
        return {
            "name": self.name,
            "type": self.kind,
            "unit": self.unit,
            "description": self.description,
            "required": self.required,
            "lower": self.lower,
            "upper": self.upper,
            "categories": list(self.categories) if self.categories else None,
            "risk_direction": self.risk_direction,
        }


@dataclass(frozen=True)
class FieldViolation:
    """A value that breaks its field's spec; `row` is the 0-based position in the frame."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"column {self.column!r}, row {self.row}: {self.message}"


@dataclass(frozen=True)
class RecordSchema:
    name: str
    fields: tuple[FieldSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)

    def pandas_dtypes(self) -> dict[str, str]:
        return {f.name: f.pandas_dtype for f in self.fields}

    def metadata(self) -> list[dict]:
        return [f.metadata() for f in self.fields]

    def violations(self, frame: pd.DataFrame, limit: int = 100) -> list[FieldViolation]:
        """Missing required columns, missing required values, values out of bounds or categories.

        Vectorised per column; stops after `limit` violations so a million bad rows
        do not build a million messages.
        """
        found: list[FieldViolation] = []
        for spec in self.fields:
            if spec.name not in frame.columns:
                if spec.required:
                    found.append(FieldViolation(-1, spec.name, "required column is missing"))
                continue
            found.extend(column_violations(spec, frame[spec.name], limit - len(found)))
            if len(found) >= limit:
                break
        return found[:limit]


def column_violations(spec: FieldSpec, column: pd.Series, limit: int) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    missing = column.isna().to_numpy()
    if spec.required and missing.any():
        found += [FieldViolation(int(r), spec.name, "required value is missing") for r in np.flatnonzero(missing)[:limit]]
    if spec.is_numeric:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        unparsable = np.isnan(values) & ~missing
        found += [FieldViolation(int(r), spec.name, f"not a number: {column.iloc[r]!r}") for r in np.flatnonzero(unparsable)[:limit]]
        with np.errstate(invalid="ignore"):
            if spec.lower is not None:
                low = values < spec.lower
                found += [FieldViolation(int(r), spec.name, f"{values[r]:g} is below {spec.lower:g}") for r in np.flatnonzero(low)[:limit]]
            if spec.upper is not None:
                high = values > spec.upper
                found += [FieldViolation(int(r), spec.name, f"{values[r]:g} is above {spec.upper:g}") for r in np.flatnonzero(high)[:limit]]
        if spec.kind == "integer":
            fractional = ~np.isnan(values) & (values != np.round(values))
            found += [FieldViolation(int(r), spec.name, f"{values[r]:g} is not an integer") for r in np.flatnonzero(fractional)[:limit]]
    elif spec.categories is not None:
        unknown = ~column.isin(spec.categories).to_numpy() & ~missing
        found += [
            FieldViolation(int(r), spec.name, f"{column.iloc[r]!r} is not one of {', '.join(spec.categories)}")
            for r in np.flatnonzero(unknown)[:limit]
        ]
    return found[:limit]


def _money(name: str, description: str, *, required: bool = True, risk: int = 0) -> FieldSpec:
    return FieldSpec(name, "integer", "minor currency units", description, required, lower=0, risk_direction=risk)


_BORROWER_ID = FieldSpec("borrower_id", "text", "", "borrower identifier, unique per borrower")
_INDUSTRY = FieldSpec("industry", "category", "", "borrower's industry (seed 001: industry effects)")
_REGION = FieldSpec("region", "category", "", "borrower's region (seed 001: regional effects)")

CREDIT_RECORD = RecordSchema(
    "credit_record",
    (
        _BORROWER_ID,
        FieldSpec("record_date", "date", "", "date the bureau compiled this record (staleness check)"),
        _money("annual_income_minor", "verified annual income", risk=-1),
        _money("deposits_minor", "deposit balances", required=False, risk=-1),
        _money("outstanding_debt_minor", "outstanding loans at all lenders", risk=+1),
        FieldSpec("credit_history_months", "integer", "months", "length of credit history", False, 0, 1200, risk_direction=-1),
        FieldSpec("delinquencies_30d", "integer", "count", "past payments 30-59 days late", True, 0, 1000, risk_direction=+1),
        FieldSpec("delinquencies_60d", "integer", "count", "past payments 60-89 days late", True, 0, 1000, risk_direction=+1),
        FieldSpec("delinquencies_90d_plus", "integer", "count", "past payments 90+ days late", True, 0, 1000, risk_direction=+1),
        FieldSpec("credit_utilisation", "decimal", "ratio", "revolving balance / revolving limit", False, 0.0, 5.0, risk_direction=+1),
        FieldSpec("recent_inquiries", "integer", "count", "credit inquiries in the last 6 months", True, 0, 1000, risk_direction=+1),
        FieldSpec("age_years", "integer", "years", "borrower's age", True, 18, 120),
        FieldSpec("employment_type", "category", "", "kind of employment", True, categories=EMPLOYMENT_TYPES),
        _INDUSTRY,
        _REGION,
        # Enterprise operating indicators (seed 000), only for enterprise borrowers with IoT data.
        FieldSpec("equipment_utilisation", "decimal", "ratio", "share of time pledged equipment runs", False, 0.0, 1.0, risk_direction=-1),
        FieldSpec("energy_intensity", "decimal", "kWh per 10,000 revenue", "energy used per unit of revenue", False, 0.0, None),
        FieldSpec("logistics_volume", "integer", "orders per month", "IoT-verified logistics orders", False, 0, None, risk_direction=-1),
    ),
)

LOAN = RecordSchema(
    "loan",
    (
        FieldSpec("loan_id", "text", "", "loan identifier, unique across packs"),
        _BORROWER_ID,
        _money("principal_minor", "amount lent"),
        _money("outstanding_balance_minor", "balance still owed"),
        FieldSpec("annual_rate_bps", "integer", "basis points", "annual interest rate", True, 0, 100_000),
        FieldSpec("term_months", "integer", "months", "contractual term", True, 1, 600),
        FieldSpec("origination_date", "date", "", "date the loan was drawn"),
        FieldSpec("maturity_date", "date", "", "contractual final payment date"),
        FieldSpec("collateral_ids", "id_list", "", "pledged collateral ids separated by ';' (may be empty)", False),
        _INDUSTRY,
        _REGION,
    ),
)

#: One row of an asset pack: the loan and its borrower's credit record (shared columns once).
ASSET = RecordSchema("asset", LOAN.fields + tuple(f for f in CREDIT_RECORD.fields if f.name not in LOAN))

#: Credit-record fields a model may learn from (identifiers and dates excluded).
CREDIT_FEATURES: tuple[str, ...] = tuple(
    f.name for f in CREDIT_RECORD.fields if f.kind in ("integer", "decimal", "category")
)

#: The 0/1 outcome column of a labelled history: 1 = defaulted (bad).
TARGET = "defaulted"


def schema_field(name: str) -> FieldSpec:
    """The asset-level spec of a field name, for mapping external columns onto the schema."""
    return ASSET.field(name)
