"""Decoding verified credit records into one typed table (``api.services.credit_records``).

The Arrow path must give what ``json.loads`` per record gives, and anything it cannot read
exactly must go down the plain path, where single texts are marked bad.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from api.services import credit_records
from api.services.credit_records import parse_records
from scoring.data.schema import CREDIT_RECORD
from scoring.data.synthetic import generate_pack

FIELDS = list(CREDIT_RECORD.names)


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def texts(n: int = 50, seed: int = 3) -> list[str]:
    frame = generate_pack(n, seed)[FIELDS]
    records = json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s").replace("T00:00:00", ""))
    return [canonical(record) for record in records]


def plain(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame([json.loads(value) for value in values])


def test_the_typed_table_holds_what_json_loads_gives_record_by_record():
    values = texts()
    parsed = parse_records(values)
    expected = plain(values)
    assert parsed.ok.all()
    assert list(parsed.frame.columns) == sorted(FIELDS)
    for name in FIELDS:  # same values, nulls included, whatever the dtype
        got, want = parsed.frame[name].astype(object), expected[name].astype(object)
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want], name
    assert parsed.borrower_id.tolist() == expected["borrower_id"].tolist()
    assert parsed.record_date.tolist() == [pd.Timestamp(d).date() for d in expected["record_date"]]
    assert parsed.frame["age_years"].dtype == np.int64  # typed, not objects


def test_an_integral_decimal_written_as_an_integer_is_read_as_that_number():
    values = [canonical({"borrower_id": "b1", "record_date": "2026-11-01", "credit_utilisation": 1}),
              canonical({"borrower_id": "b2", "record_date": "2026-11-01", "credit_utilisation": 0.25})]
    parsed = parse_records(values)
    assert parsed.frame["credit_utilisation"].tolist() == [1.0, 0.25]
    assert parsed.ok.all()


@pytest.mark.parametrize("bad", ["[1, 2]", "", "not json", '"text"', '{"borrower_id":"x"}{"borrower_id":"y"}'],
                         ids=["array", "empty", "garbage", "string", "two-objects"])
def test_a_text_that_is_not_one_object_is_marked_and_the_rest_still_read(bad):
    values = texts(5)
    values.insert(2, bad)
    parsed = parse_records(values)
    assert parsed.ok.tolist() == [True, True, False, True, True, True]
    assert parsed.borrower_id[2] is None and np.isnat(parsed.record_date[2])
    assert parsed.borrower_id[[0, 1, 3, 4, 5]].tolist() == [json.loads(v)["borrower_id"] for v in values if v != bad]


def test_a_field_outside_the_schema_or_of_another_type_takes_the_plain_path(monkeypatch):
    calls = []
    real = credit_records._plain_frame
    monkeypatch.setattr(credit_records, "_plain_frame", lambda values: calls.append(len(values)) or real(values))
    values = texts(4)
    odd = json.loads(values[1])
    odd["extra_field"] = 7
    odd["age_years"] = "forty"
    values[1] = canonical(odd)
    parsed = parse_records(values)
    assert calls == [4]  # the whole batch went down the plain path
    assert parsed.ok.all()
    assert parsed.frame["age_years"].tolist()[1] == "forty" and parsed.frame["extra_field"].tolist()[1] == 7


def test_the_record_date_must_be_an_iso_date():
    values = [canonical({"borrower_id": "a", "record_date": "2026-02-30"}),
              canonical({"borrower_id": "b", "record_date": "01/11/2026"}),
              canonical({"borrower_id": "c", "record_date": "2026-11-01"})]
    parsed = parse_records(values)
    assert np.isnat(parsed.record_date[0]) and np.isnat(parsed.record_date[1])
    assert str(parsed.record_date[2]) == "2026-11-01"


def test_the_scorecard_scores_the_typed_table_exactly_as_the_records_one_by_one():
    from scoring.data.schema import CREDIT_FEATURES, TARGET
    from scoring.data.synthetic import generate_history
    from scoring.model.batch import score_assets
    from scoring.model.scorecard import Scorecard

    history = generate_history(6_000, seed=8)
    model = Scorecard().fit(history[list(CREDIT_FEATURES)], history[TARGET].to_numpy())
    values = texts(3_000, seed=9)

    typed, plain_records = score_assets(model, parse_records(values).frame), score_assets(model, plain(values))

    assert typed.scores.tolist() == plain_records.scores.tolist()
    assert typed.levels.tolist() == plain_records.levels.tolist()
    assert typed.pd_ppm.tolist() == plain_records.pd_ppm.tolist()
    assert np.asarray(typed.reason_codes).tolist() == np.asarray(plain_records.reason_codes).tolist()
    assert len(set(typed.scores.tolist())) > 20  # a real spread of scores, not one value
