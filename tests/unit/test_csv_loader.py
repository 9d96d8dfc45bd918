import json

import numpy as np
import pytest

from scoring.data.csv_loader import CreditDataError, load_labelled_csv
from scoring.errors import ScoringValueError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


CSV = """id,income,grade,branch,default
a1,52000,A,11,0
a2,31000,C,12,1
a3,,B,11,0
a4,47000,A,13,0
"""


def test_kinds_are_inferred_and_the_target_is_split_off(tmp_path):
    data = load_labelled_csv(write(tmp_path, CSV), "default")
    assert list(data.features.columns) == ["id", "income", "grade", "branch"]
    assert data.categorical == ("id", "grade")
    assert data.target.tolist() == [0, 1, 0, 0]
    assert np.isnan(data.features["income"].iloc[2])  # a blank is a missing value, not an error
    assert data.bad_rate == 0.25


def test_mapping_renames_to_schema_fields_and_applies_their_specs(tmp_path):
    mapping = write(tmp_path, json.dumps({
        "columns": {"income": "annual_income_minor", "id": "loan_id"},
        "scale": {"income": 100},
        "ignore": [],
        "categorical": ["branch"],
    }), "mapping.json")
    data = load_labelled_csv(write(tmp_path, CSV), "default", mapping=mapping)
    # Identifiers are kept out of the features; money is scaled to minor units.
    assert list(data.features.columns) == ["annual_income_minor", "grade", "branch"]
    assert data.features["annual_income_minor"].iloc[0] == 5_200_000
    assert data.categorical == ("grade", "branch")
    assert data.features["branch"].iloc[0] == "11"
    assert data.risk_directions == {"annual_income_minor": -1}
    assert data.source_columns["annual_income_minor"] == "income"


def test_target_labels_map_by_mapping_or_by_the_bad_value(tmp_path):
    text = "x,status\n1,good\n2,bad\n3,good\n"
    by_mapping = load_labelled_csv(write(tmp_path, text), "status", mapping={"target_values": {"bad": 1, "good": 0}})
    by_value = load_labelled_csv(write(tmp_path, text), "status", target_bad_value="bad")
    assert by_mapping.target.tolist() == by_value.target.tolist() == [0, 1, 0]
    with pytest.raises(CreditDataError, match="exactly two labels"):
        load_labelled_csv(write(tmp_path, text), "status", target_bad_value="awful")


def test_missing_target_column_names_the_column(tmp_path):
    with pytest.raises(CreditDataError) as caught:
        load_labelled_csv(write(tmp_path, CSV), "defaulted")
    assert caught.value.column == "defaulted"
    assert "columns are" in str(caught.value)
    assert isinstance(caught.value, ScoringValueError) and isinstance(caught.value, ValueError)


def test_non_binary_target_names_column_and_line(tmp_path):
    with pytest.raises(CreditDataError) as caught:
        load_labelled_csv(write(tmp_path, "x,y\n1,0\n2,1\n3,2\n"), "y")
    assert (caught.value.column, caught.value.row, caught.value.line) == ("y", 2, 4)
    assert "line 4" in str(caught.value) and "not 0 or 1" in str(caught.value)


def test_missing_target_value_and_unknown_label_are_located(tmp_path):
    with pytest.raises(CreditDataError, match="line 3.*missing"):
        load_labelled_csv(write(tmp_path, "x,y\n1,0\n2,\n"), "y")
    with pytest.raises(CreditDataError) as caught:
        load_labelled_csv(write(tmp_path, "x,y\n1,good\n2,meh\n"), "y", mapping={"target_values": {"good": 0, "bad": 1}})
    assert caught.value.row == 1 and "'meh'" in str(caught.value)


def test_empty_and_header_only_files_are_refused(tmp_path):
    with pytest.raises(CreditDataError, match="empty"):
        load_labelled_csv(write(tmp_path, ""), "y")
    with pytest.raises(CreditDataError, match="no data rows"):
        load_labelled_csv(write(tmp_path, "x,y\n"), "y")
    with pytest.raises(CreditDataError, match="does not exist"):
        load_labelled_csv(tmp_path / "nope.csv", "y")


def test_mapping_errors_are_clear(tmp_path):
    path = write(tmp_path, CSV)
    with pytest.raises(CreditDataError, match="not in the file"):
        load_labelled_csv(path, "default", mapping={"columns": {"salary": "annual_income_minor"}})
    with pytest.raises(CreditDataError, match="unknown schema field"):
        load_labelled_csv(path, "default", mapping={"columns": {"income": "wealth"}})
    with pytest.raises(CreditDataError, match="unknown mapping keys"):
        load_labelled_csv(path, "default", mapping={"colums": {}})
    with pytest.raises(CreditDataError, match="same schema field"):
        load_labelled_csv(path, "default", mapping={"columns": {"income": "annual_income_minor", "branch": "annual_income_minor"}})
    with pytest.raises(CreditDataError, match="cannot read mapping"):
        load_labelled_csv(path, "default", mapping=write(tmp_path, "{not json", "m.json"))


def test_mapped_values_out_of_the_fields_bounds_are_located(tmp_path):
    text = "age,y\n30,0\n41,1\n7,0\n"
    with pytest.raises(CreditDataError) as caught:
        load_labelled_csv(write(tmp_path, text), "y", mapping={"columns": {"age": "age_years"}})
    assert (caught.value.column, caught.value.row) == ("age", 2)
    assert "below 18" in str(caught.value)


def test_a_file_with_only_the_target_has_no_features(tmp_path):
    with pytest.raises(CreditDataError, match="no feature columns"):
        load_labelled_csv(write(tmp_path, "y\n0\n1\n"), "y")
