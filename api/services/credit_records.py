"""Verified credit records, from their canonical JSON texts to one typed table in one pass.

The credit check of a million-asset pack verifies a million record texts and then needs them as
a table (the scorer's input) plus two facts per record (whose it is, and its date). Decoding
each text with ``json.loads`` into a dict and building a DataFrame from a million dicts costs
over ten seconds; Arrow's JSON reader decodes all texts straight into typed columns, with the
column types taken from the record schema (``scoring.data.schema.CREDIT_RECORD``).

The fast path accepts only what it can read exactly: one JSON object per text, every field in
the schema, values of the schema's types. Anything else (a text that is not an object, an
unknown field, a value of another type, a line count that does not match) sends the whole
batch down the plain path, ``json.loads`` per text, which decides record by record. Both paths
give the same columns for well-formed records; only the plain path can mark single texts bad.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from scoring.data.schema import CREDIT_RECORD

_ARROW_TYPES = {"integer": pa.int64(), "decimal": pa.float64()}  # text, category and date: strings
BLOCK_BYTES = 1 << 24


@dataclass(frozen=True)
class ParsedRecords:
    """One row per text, in input order."""

    frame: pd.DataFrame  # the records (all-null rows where ``ok`` is False)
    ok: np.ndarray  # bool: the text is a JSON object
    borrower_id: np.ndarray  # object: the record's own borrower id (None where absent)
    record_date: np.ndarray  # datetime64[D]: NaT where absent or not an ISO date


@lru_cache(maxsize=1)
def arrow_schema() -> pa.Schema:
    """The record schema as Arrow column types, fields in canonical (sorted) order."""
    return pa.schema([(spec.name, _ARROW_TYPES.get(spec.kind, pa.string()))
                      for spec in sorted(CREDIT_RECORD.fields, key=lambda spec: spec.name)])


def parse_records(texts: list[str]) -> ParsedRecords:
    """Decode record texts (canonical JSON, one object each) into a table and their two facts."""
    frame = _arrow_frame(texts) if texts else None
    if frame is not None:
        ok = np.ones(len(texts), dtype=bool)
    else:
        frame, ok = _plain_frame(texts)
    borrower = frame["borrower_id"] if "borrower_id" in frame else pd.Series([None] * len(frame), dtype=object)
    borrower_ids = borrower.astype(object).where(borrower.notna(), None).to_numpy(dtype=object)
    dates = frame["record_date"] if "record_date" in frame else pd.Series([None] * len(frame), dtype=object)
    record_date = _iso_dates(dates)
    return ParsedRecords(frame, ok, borrower_ids, record_date)


def _arrow_frame(texts: list[str]) -> pd.DataFrame | None:
    body = "\n".join(texts).encode()
    options = pa_json.ParseOptions(explicit_schema=arrow_schema(), unexpected_field_behavior="error",
                                   newlines_in_values=False)
    try:
        table = pa_json.read_json(pa.BufferReader(body), read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES),
                                  parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(texts):  # an empty text, or two objects on one line
        return None
    return table.to_pandas()


def _plain_frame(texts: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    records: list[dict] = []
    ok = np.zeros(len(texts), dtype=bool)
    for position, text in enumerate(texts):
        try:
            record = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            record = None
        if isinstance(record, dict):
            ok[position] = True
            records.append(record)
        else:
            records.append({})
    return pd.DataFrame.from_records(records, index=range(len(texts))), ok


def _iso_dates(values: pd.Series) -> np.ndarray:
    """YYYY-MM-DD texts as datetime64[D]; NaT for anything else (None, other types, other formats)."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.map(
        lambda value: value if isinstance(value, str) else None)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[D]")
