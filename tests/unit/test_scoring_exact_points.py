"""Exact points: a score is base points plus one integer per feature, re-addable by anyone.

The recomputation below uses only what `points_table_` publishes (as JSON, so the
numbers are plain Python ints and floats), `bisect` for numeric bins and set
membership for categories: what a contract or an auditor would do.
"""

import bisect
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.data.german import load_german_credit
from scoring.data.schema import CREDIT_FEATURES, TARGET
from scoring.data.synthetic import generate_history, generate_pack
from scoring.model.scorecard import Scorecard

GERMAN_RAW = Path(__file__).resolve().parents[1] / "fixtures" / "german-credit" / "german.data"


def recompute(published: dict, record: dict) -> int:
    total = published["base_points"]
    for feature in published["features"]:
        value = record.get(feature["feature"])
        absent = value is None or (isinstance(value, float) and math.isnan(value))
        if absent:
            total += feature["missing_points"]
        elif feature["kind"] == "numeric":
            total += feature["points"][bisect.bisect_right(feature["edges"], value)]
        else:
            group = next((i for i, g in enumerate(feature["groups"]) if str(value) in g), None)
            total += feature["other_points"] if group is None else feature["points"][group]
    return min(max(total, published["min_score"]), published["max_score"])


def plain_records(frame: pd.DataFrame) -> list[dict]:
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in records]


@pytest.fixture(scope="module")
def synthetic_model():
    history = generate_history(20_000, seed=31)
    return Scorecard().fit(history[list(CREDIT_FEATURES)], history[TARGET].to_numpy())


def test_published_points_are_plain_integers(synthetic_model):
    published = json.loads(json.dumps(synthetic_model.points_table_.to_dict()))
    assert type(published["base_points"]) is int
    for feature in published["features"]:
        assert all(type(p) is int for p in feature["points"])
        assert type(feature["missing_points"]) is int and type(feature["other_points"]) is int
        assert min(feature["points"] + [feature["missing_points"]]) == 0  # worst bin scores 0


def test_integer_sum_reproduces_predict_score_on_synthetic_assets(synthetic_model):
    pack = generate_pack(3_000, seed=32)
    sample = pack.sample(600, random_state=0)
    # Include the awkward cases: missing values, unseen categories, values on a bin edge.
    sample = sample.astype({"industry": "str"})
    sample.iloc[:40, sample.columns.get_loc("industry")] = "space mining"
    sample.iloc[40:80, sample.columns.get_loc("annual_income_minor")] = None
    edge_feature = next(f for f in synthetic_model.points_table_.features if f.kind == "numeric" and f.edges)
    sample[edge_feature.feature] = sample[edge_feature.feature].astype(float)
    sample.iloc[80:120, sample.columns.get_loc(edge_feature.feature)] = edge_feature.edges[0]

    published = json.loads(json.dumps(synthetic_model.points_table_.to_dict()))
    expected = synthetic_model.predict_score(sample)
    recomputed = [recompute(published, r) for r in plain_records(sample)]
    assert recomputed == expected.tolist()
    assert [synthetic_model.points_table_.score_record(r) for r in plain_records(sample)] == expected.tolist()


def test_integer_sum_reproduces_predict_score_on_german_credit():
    german = load_german_credit(GERMAN_RAW)
    model = Scorecard(categorical_features=german.categorical).fit(german.features, german.target)
    published = json.loads(json.dumps(model.points_table_.to_dict()))
    recomputed = [recompute(published, r) for r in plain_records(german.features)]
    assert recomputed == model.predict_score(german.features).tolist()


def test_changing_one_attributes_points_changes_the_score_by_exactly_that(synthetic_model):
    table = synthetic_model.points_table_.to_dict()
    record = plain_records(generate_pack(1, seed=33))[0]
    before = recompute(table, record)
    feature = table["features"][0]
    value = record[feature["feature"]]
    index = bisect.bisect_right(feature["edges"], value) if value is not None else None
    if index is None:
        feature["missing_points"] += 1
    else:
        feature["points"][index] += 1
    assert recompute(table, record) == min(before + 1, 100)
