import pandas as pd
import pytest

from scoring.data.schema import ASSET, CREDIT_FEATURES, CREDIT_RECORD, LOAN, FieldSpec


def test_metadata_exposes_everything_a_pydantic_model_needs():
    meta = {m["name"]: m for m in CREDIT_RECORD.metadata()}
    assert set(meta["annual_income_minor"]) >= {"name", "type", "unit", "lower", "upper", "required", "description"}
    assert meta["annual_income_minor"]["type"] == "integer"
    assert meta["annual_income_minor"]["unit"] == "minor currency units"
    assert meta["deposits_minor"]["required"] is False
    assert meta["credit_utilisation"]["lower"] == 0.0
    assert meta["employment_type"]["categories"][0] == "employed"


def test_asset_row_holds_loan_and_credit_record_fields_once():
    assert set(LOAN.names) | set(CREDIT_RECORD.names) == set(ASSET.names)
    assert len(ASSET.names) == len(set(ASSET.names))
    for money in ("principal_minor", "outstanding_balance_minor", "annual_income_minor", "outstanding_debt_minor"):
        assert ASSET.field(money).kind == "integer"
    assert ASSET.field("annual_rate_bps").unit == "basis points"
    assert ASSET.pandas_dtypes()["deposits_minor"] == "Int64"  # nullable: optional money stays integer


def test_model_features_exclude_identifiers_and_dates():
    assert "borrower_id" not in CREDIT_FEATURES and "record_date" not in CREDIT_FEATURES
    assert {"delinquencies_90d_plus", "equipment_utilisation", "region"} <= set(CREDIT_FEATURES)


def test_risk_directions_say_how_a_larger_value_moves_risk():
    assert CREDIT_RECORD.field("delinquencies_90d_plus").risk_direction == 1
    assert CREDIT_RECORD.field("annual_income_minor").risk_direction == -1
    assert CREDIT_RECORD.field("age_years").risk_direction == 0


def test_violations_name_column_and_row():
    frame = pd.DataFrame({
        "age_years": [30, 12, 40.5],
        "employment_type": ["employed", "astronaut", None],
        "credit_utilisation": [0.2, None, 9.0],
    })
    schema = type(CREDIT_RECORD)("t", tuple(CREDIT_RECORD.field(n) for n in frame.columns))
    found = {(v.column, v.row): v.message for v in schema.violations(frame)}
    assert "below 18" in found[("age_years", 1)]
    assert "not an integer" in found[("age_years", 2)]
    assert "astronaut" in found[("employment_type", 1)]
    assert "missing" in found[("employment_type", 2)]
    assert "above 5" in found[("credit_utilisation", 2)]
    assert ("credit_utilisation", 1) not in found  # optional field may be absent


def test_missing_required_column_is_reported_and_unknown_field_raises():
    found = LOAN.violations(pd.DataFrame({"loan_id": ["a"]}))
    assert any(v.column == "principal_minor" and v.row == -1 for v in found)
    with pytest.raises(KeyError):
        LOAN.field("no_such_field")


def test_violations_stop_at_the_limit():
    spec = FieldSpec("n", "integer", "count", "", True, 0, 10)
    schema = type(CREDIT_RECORD)("t", (spec,))
    assert len(schema.violations(pd.DataFrame({"n": [-1] * 1000}), limit=7)) == 7
