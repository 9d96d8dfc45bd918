"""Credit records as the bureau takes them in: parsed, validated against ``CREDIT_RECORD`` and
turned into the canonical JSON every party hashes.

Everything is column-wise (numpy/pandas), because a batch may hold a million records: each
column is parsed once, the checks count every problem exactly but describe only the first few,
and the canonical JSON of a record is assembled from per-column fragments instead of one
``json.dumps`` per record. The result is byte-identical to ``chain.leaves.canonical_json`` of
the record dict with every schema field present (``null`` where a value is missing) and an
integral decimal written as an integer, so that Python and JavaScript serialise it alike.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses for strings
from typing import Any

import numpy as np
import pandas as pd

from api.errors import InvalidInputError, PayloadTooLargeError
from scoring.data.schema import CREDIT_RECORD, FieldSpec

FIELDS: tuple[str, ...] = CREDIT_RECORD.names
#: Integers beyond this are not exact in JavaScript (IEEE doubles), so no party could re-hash them.
MAX_SAFE_INTEGER = 2**53 - 1
MAX_BORROWER_ID_LENGTH = 128


@dataclass(frozen=True)
class Problem:
    row: int | None  # 0-based record index; None for a problem of the whole batch or column
    field: str | None
    problem: str

    def to_dict(self, line_offset: int | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"row": self.row, "field": self.field, "problem": self.problem}
        if line_offset is not None and self.row is not None:
            entry["line"] = self.row + line_offset
        return entry


@dataclass(frozen=True)
class CanonicalRecords:
    """A validated batch: one canonical JSON text per record, in input order."""

    borrower_ids: list[str]
    record_dates: np.ndarray  # datetime64[D]
    record_json: list[str]

    def __len__(self) -> int:
        return len(self.record_json)


# -- parsing -------------------------------------------------------------------------------


def frame_from_json(records: Any) -> pd.DataFrame:
    """A list of record objects as a frame of object columns (values exactly as sent)."""
    if not isinstance(records, list):
        raise InvalidInputError('expected a JSON list of credit records, or {"records": [...], "as_of": "YYYY-MM-DD"}')
    not_objects = [i for i, record in enumerate(records) if not isinstance(record, dict)]
    if not_objects:
        raise InvalidInputError(
            f"{len(not_objects)} record(s) are not JSON objects; nothing was stored",
            details={"errors": [{"row": i, "field": None, "problem": "not a JSON object"} for i in not_objects[:100]],
                     "error_count": len(not_objects), "shown": min(100, len(not_objects))},
        )
    present: set[str] = set().union(*map(dict.keys, records)) if records else set()
    names = [name for name in FIELDS if name in present] + sorted(present - set(FIELDS))
    return pd.DataFrame({name: pd.Series([record.get(name) for record in records], dtype=object) for name in names},
                        index=pd.RangeIndex(len(records)))


def frame_from_csv(data: bytes) -> pd.DataFrame:
    """A CSV with a header row; every cell read as text, only empty cells are missing."""
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"not a readable CSV file: {exc}") from None


def parse_json_body(raw: bytes) -> tuple[pd.DataFrame, dt.date | None]:
    """The records and optional as-of date of a JSON ingest body: a list, or an object."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from None
    as_of = None
    if isinstance(body, dict):
        unknown = set(body) - {"records", "as_of"}
        if unknown:
            raise InvalidInputError(f"unknown keys in the request body: {', '.join(sorted(unknown))}")
        as_of = parse_as_of(body.get("as_of"))
        body = body.get("records")
    return frame_from_json(body), as_of


def parse_as_of(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"as_of must be a YYYY-MM-DD date, got {value!r}") from None


def _is_type(column: pd.Series, kind: type) -> np.ndarray:
    return np.fromiter((type(value) is kind for value in column.to_numpy()), dtype=bool, count=len(column))


def _numbers(column: pd.Series) -> np.ndarray:
    if column.dtype == object:
        column = column.mask(_is_type(column, bool), "boolean")  # a JSON true must not pass for 1
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _dates(column: pd.Series) -> np.ndarray:
    """datetime64[D] values, NaT where missing or not a YYYY-MM-DD date."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy().astype("datetime64[D]")
    text = column.astype(object).map(_date_text)
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").to_numpy().astype("datetime64[D]")


def _date_text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else None


def _texts(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values as an object array, which of them are strings)."""
    values = column.astype(object).to_numpy()
    return values, np.fromiter((type(value) is str for value in values), dtype=bool, count=len(values))


@dataclass(frozen=True)
class _Column:
    spec: FieldSpec
    raw: pd.Series
    missing: np.ndarray
    parsed: np.ndarray  # float (numeric), datetime64[D] (date) or object (text)
    is_text: np.ndarray | None = None


def _parse(spec: FieldSpec, raw: pd.Series) -> _Column:
    missing = raw.isna().to_numpy()
    if spec.is_numeric:
        return _Column(spec, raw, missing, _numbers(raw))
    if spec.kind == "date":
        return _Column(spec, raw, missing, _dates(raw))
    values, is_text = _texts(raw)
    return _Column(spec, raw, missing, values, is_text)


# -- validation ----------------------------------------------------------------------------

Check = tuple[np.ndarray, Callable[[int], str]]  # rows that break a rule, and the message of one row


def _checks(column: _Column, today: dt.date) -> Iterator[Check]:
    spec, values, missing, raw = column.spec, column.parsed, column.missing, column.raw
    if spec.required:
        yield missing, lambda r: "required value is missing"
    if spec.is_numeric:
        yield np.isnan(values) & ~missing, lambda r: f"not a number: {raw.iloc[r]!r}"
        with np.errstate(invalid="ignore"):
            yield np.isinf(values), lambda r: "not a finite number"
            if spec.lower is not None:
                yield values < spec.lower, lambda r: f"{values[r]:g} is below {spec.lower:g}"
            if spec.upper is not None:
                yield values > spec.upper, lambda r: f"{values[r]:g} is above {spec.upper:g}"
            yield np.isfinite(values) & (np.abs(values) > MAX_SAFE_INTEGER), lambda r: f"{values[r]:g} is too large"
            if spec.kind == "integer":
                fractional = np.isfinite(values) & (values != np.round(values))
                yield fractional, lambda r: f"{values[r]:g} is not an integer"
    elif spec.kind == "date":
        yield np.isnat(values) & ~missing, lambda r: f"not a YYYY-MM-DD date: {raw.iloc[r]!r}"
        if spec.name == "record_date":
            yield values > np.datetime64(today, "D"), lambda r: f"{values[r]} lies after today ({today})"
    else:
        yield ~column.is_text & ~missing, lambda r: f"expected text, got {raw.iloc[r]!r}"
        if spec.categories is not None:
            unknown = column.is_text & ~np.isin(values, np.array(spec.categories, dtype=object))
            yield unknown, lambda r: f"{values[r]!r} is not one of {', '.join(spec.categories)}"
        if spec.name == "borrower_id":
            yield from _borrower_checks(column)


def _borrower_checks(column: _Column) -> Iterator[Check]:
    text = pd.Series(np.where(column.is_text, column.parsed, ""), dtype=object)
    lengths = text.str.len().to_numpy()
    yield column.is_text & (lengths == 0), lambda r: "borrower id is empty"
    yield lengths > MAX_BORROWER_ID_LENGTH, lambda r: f"borrower id is longer than {MAX_BORROWER_ID_LENGTH} characters"
    duplicated = text.duplicated(keep=False).to_numpy() & (lengths > 0)
    yield duplicated, lambda r: f"borrower id {text.iloc[r]!r} appears more than once in the batch"


def _find_problems(frame: pd.DataFrame, columns: dict[str, _Column], today: dt.date,
                   limit: int) -> tuple[list[Problem], int]:
    shown: list[Problem] = []
    total = 0
    if len(frame) == 0:
        shown.append(Problem(None, None, "the batch holds no records"))
        total += 1
    for name in frame.columns:
        if name not in CREDIT_RECORD:
            shown.append(Problem(None, str(name), f"unknown field; the fields are: {', '.join(FIELDS)}"))
            total += 1
    for spec in CREDIT_RECORD.fields:
        if spec.name not in columns:
            if spec.required and len(frame):
                shown.append(Problem(None, spec.name, "required field is missing from every record"))
                total += 1
            continue
        for mask, message in _checks(columns[spec.name], today):
            rows = np.flatnonzero(mask)
            total += rows.size
            shown += [Problem(int(row), spec.name, message(int(row))) for row in rows[:limit]]
    shown.sort(key=lambda p: (-1 if p.row is None else p.row, FIELDS.index(p.field) if p.field in FIELDS else -1))
    return shown[:limit], total


# -- canonical JSON ------------------------------------------------------------------------


def _json_fragments(column: _Column) -> list[str]:
    """The JSON text of each value of a validated column ("null" where missing)."""
    spec, values = column.spec, column.parsed
    if spec.is_numeric:
        missing = np.isnan(values)
        integral = ~missing & (values == np.round(values))
        if integral.all():
            return list(map(int.__repr__, values.astype(np.int64).tolist()))
        out = np.full(len(values), "null", dtype=object)
        out[integral] = list(map(int.__repr__, values[integral].astype(np.int64).tolist()))
        fractional = ~missing & ~integral
        out[fractional] = list(map(float.__repr__, values[fractional].tolist()))
        return out.tolist()
    if spec.kind == "date":
        days, positions = np.unique(values, return_inverse=True)  # few distinct days: format each once
        texts = np.array(["null" if np.isnat(day) else f'"{day}"' for day in days], dtype=object)
        return texts[positions].tolist()
    if column.is_text.all():
        if len(values) > 4 * 1024 and len(set(values[:1024].tolist())) < 64:  # a category: encode each once
            encoded = {value: encode_basestring(value) for value in set(values.tolist())}
            return [encoded[value] for value in values.tolist()]
        return list(map(encode_basestring, values.tolist()))
    return [encode_basestring(value) if is_text else "null" for value, is_text in zip(values.tolist(), column.is_text.tolist())]


def canonical_batch(frame: pd.DataFrame, *, today: dt.date, max_errors: int = 100,
                    max_records: int | None = None, line_offset: int | None = None) -> CanonicalRecords:
    """Validate a batch and give each record's canonical JSON.

    Raises ``InvalidInputError`` with ``details = {"errors": [{row, field, problem}...],
    "error_count", "shown"}`` if any record breaks the schema, and ``PayloadTooLargeError``
    above ``max_records``. ``line_offset`` adds each problem's file line (CSV: 2).
    """
    if max_records is not None and len(frame) > max_records:
        raise PayloadTooLargeError(f"a batch holds at most {max_records} records, got {len(frame)}")
    frame = frame.reset_index(drop=True)
    columns = {spec.name: _parse(spec, frame[spec.name]) for spec in CREDIT_RECORD.fields if spec.name in frame}
    shown, total = _find_problems(frame, columns, today, max_errors)
    if total:
        raise InvalidInputError(
            f"{total} problem(s) in the credit records; nothing was stored",
            details={"errors": [problem.to_dict(line_offset) for problem in shown], "error_count": total,
                     "shown": len(shown)},
        )
    # Interleave constant key texts with value columns: one str.join per record, no per-value concatenation.
    parts: list = [repeat("{")]
    for position, name in enumerate(sorted(FIELDS)):
        parts.append(repeat(("," if position else "") + encode_basestring(name) + ":"))
        parts.append(_json_fragments(columns[name]) if name in columns else repeat("null"))
    parts.append(repeat("}"))
    record_json = list(map("".join, zip(*parts)))
    return CanonicalRecords(columns["borrower_id"].parsed.tolist(), columns["record_date"].parsed, record_json)
