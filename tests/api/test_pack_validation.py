"""check_columns, cell by cell: each malformed value is refused in its own row and field with a
message naming it, each well-formed edge case passes, and the text columns come back unchanged."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from api.orchestrator.submission.fields import ASSET_FIELDS
from api.orchestrator.submission.problems import ProblemCollector
from api.orchestrator.submission.validate import check_columns

TODAY = date(2026, 11, 23)
GOOD = {"loan_id": "L-1", "borrower_id": "B-1", "principal_minor": "100000", "outstanding_balance_minor": "90000",
        "annual_rate_bps": "650", "term_months": "36", "origination_date": "2024-01-15", "maturity_date": "2027-01-15",
        "collateral_ids": "C-1;C-2", "industry": "manufacturing", "region": "east"}


def check(rows: list[dict], *, as_arrow: bool = True):
    columns = {name: [row.get(name, GOOD[name]) for row in rows] for name in ASSET_FIELDS}
    raw = {name: pa.array(values) if as_arrow else values for name, values in columns.items()}
    problems = ProblemCollector(100)
    assets = check_columns(raw, len(rows), problems, TODAY)
    listed = problems.refusal("json").details["problems"] if problems else []
    return assets, {(p["row"], p["field"]): p["problem"] for p in listed}


def numbered(field: str, values: list[str]) -> list[dict]:
    return [{**GOOD, "loan_id": f"L-{i}", field: value} for i, value in enumerate(values)]


BAD = [
    ("principal_minor", "12.5", "not an integer"), ("principal_minor", "+5", "not an integer"),
    ("principal_minor", " 5", "not an integer"), ("principal_minor", "1e3", "not an integer"),
    ("principal_minor", "\uff11\uff12", "not an integer"),  # full-width digits
    ("principal_minor", "\u0663", "not an integer"),  # an Arabic-Indic digit: isdigit, but not a number here
    ("principal_minor", "--5", "not an integer"), ("principal_minor", "-", "not an integer"),
    ("principal_minor", "1234567890123456789", "not an integer"), ("principal_minor", "0", "below the minimum 1"),
    ("outstanding_balance_minor", "-100", "below the minimum 0"), ("annual_rate_bps", "250000", "above the maximum"),
    ("origination_date", "2023-02-29", "not a date"), ("origination_date", "2024-02-30", "not a date"),
    ("origination_date", "2024-13-01", "not a date"), ("origination_date", "2024-00-10", "not a date"),
    ("origination_date", "2024-01-00", "not a date"), ("origination_date", "2024-1-15", "not a date"),
    ("origination_date", " 2024-01-15", "not a date"), ("origination_date", "2024/01/15", "not a date"),
    ("origination_date", "0000-01-01", "not a date"), ("origination_date", "2026-11-24", "lies in the future"),
    ("maturity_date", "10000-01-01", "not a date"), ("maturity_date", "2024-01-15", "not after the origination"),
    ("loan_id", "", "a value is required"), ("borrower_id", " B", "whitespace"), ("borrower_id", "B\u00a0", "whitespace"),
    ("industry", "\u3000retail", "whitespace"), ("region", "east\n", "whitespace"), ("region", "x" * 65, "longer than 64"),
    ("collateral_ids", ";C-1", "separated by"), ("collateral_ids", "C-1;", "separated by"),
    ("collateral_ids", "C-1;;C-2", "separated by"), ("collateral_ids", "C-1 ;C-2", "separated by"),
    ("collateral_ids", "C-1; C-2", "separated by"), ("collateral_ids", "C" * 1001, "longer than 1000"),
]


@pytest.mark.parametrize("as_arrow", [True, False], ids=["arrow", "numpy"])
def test_each_bad_cell_is_refused_in_its_row_and_field(as_arrow):
    rows = [{**GOOD, "loan_id": f"L-{i}", field: value} for i, (field, value, _) in enumerate(BAD)]
    assets, problems = check(rows, as_arrow=as_arrow)
    assert assets is None
    expected = {(i + 1, field): why for i, (field, _, why) in enumerate(BAD)}
    assert set(problems) == set(expected)
    for key, why in expected.items():
        assert why in problems[key], (key, problems[key])
    assert "'12.5'" in problems[(1, "principal_minor")]


def test_well_formed_edge_cases_pass_and_text_comes_back_unchanged():
    edges = [
        {"principal_minor": "000000000000000001", "outstanding_balance_minor": "0"},
        {"origination_date": "2024-02-29", "maturity_date": "2262-04-11"},
        {"origination_date": "0001-01-01", "maturity_date": "9999-12-31"},
        {"origination_date": "1600-02-29", "maturity_date": "2262-04-12"},
        {"borrower_id": "B \u4e2d\u6587 \u00e9", "industry": "\u200bzero-width", "region": "x" * 64},
        {"region": "\u00e9" * 64, "collateral_ids": "", "industry": 'quote " and \\ back'},
        {"origination_date": TODAY.isoformat(), "collateral_ids": "C-1;C 2;C-3"},
    ]
    rows = [{**GOOD, "loan_id": f"L-{i}", **edge} for i, edge in enumerate(edges)]
    assets, problems = check(rows)
    assert problems == {}
    assert assets is not None and len(assets) == len(rows)
    for name in ("loan_id", "borrower_id", "industry", "region", "collateral_ids", "origination_date"):
        assert assets.column(name).to_pylist() == [row[name] for row in rows]
    assert assets.principal_minor.tolist()[0] == 1 and assets.strings("borrower_id")[4] == "B \u4e2d\u6587 \u00e9"


def test_a_repeated_loan_id_names_the_row_it_first_appeared_on():
    rows = numbered("region", ["a", "b", "c", "d", "e"])
    rows[3]["loan_id"] = rows[1]["loan_id"]
    rows[4]["loan_id"] = rows[1]["loan_id"]
    _, problems = check(rows)
    assert set(problems) == {(4, "loan_id"), (5, "loan_id")}
    assert "'L-1' already appears on row 2" in problems[(4, "loan_id")]
    assert "already appears on row 2" in problems[(5, "loan_id")]
