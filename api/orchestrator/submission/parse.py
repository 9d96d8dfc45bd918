"""Reading a submitted pack into text columns: a CSV file (already spooled to disk) or JSON rows.

Both end as one Arrow text column per field, ready for ``validate.check_columns``; problems of the
body as a whole (no header, unknown columns, wrong JSON types) go to the same collector.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from api.errors import PayloadTooLargeError
from api.orchestrator.submission.fields import (
    ASSET_FIELDS,
    COLLATERAL_SEPARATOR,
    INTEGER_FIELDS,
    REQUIRED_FIELDS,
)
from api.orchestrator.submission.problems import ProblemCollector
from api.orchestrator.submission.validate import arrow_text

_LINE = re.compile(r"line (\d+)")


def _too_many(count: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"a pack holds at most {limit} assets; this one has more than that",
                                details={"max_assets": limit, "received_at_least": count})


def read_csv(path: Path, problems: ProblemCollector, max_rows: int) -> tuple[dict[str, pa.Array], int]:
    """Text columns of a CSV pack (header row first, UTF-8, ``,`` separated, ``"`` quoted)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        problems.add(0, "(file)", f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        return {}, 0
    if not header or not any(cell.strip() for cell in header):
        problems.add(0, "(header)", "the file is empty: expected a header row naming the columns "
                                   + ", ".join(ASSET_FIELDS))
        return {}, 0
    names = [cell.strip() for cell in header]
    if not _header_ok(names, problems):
        return {}, 0
    fast = _arrow_columns(path, names, max_rows)
    if fast is not None:
        return fast
    try:
        frame = pd.read_csv(path, dtype=object, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                            nrows=max_rows + 1, engine="c", header=0, names=names, quoting=csv.QUOTE_MINIMAL)
    except UnicodeDecodeError as exc:
        problems.add(0, "(file)", f"not UTF-8 text: {exc.reason}")
        return {}, 0
    except (pd.errors.ParserError, ValueError) as exc:
        found = _LINE.search(str(exc))
        line = int(found.group(1)) if found else 0
        problems.add(max(line - 1, 0), "(row)", f"malformed CSV: {str(exc).strip()}")
        return {}, 0
    if len(frame) > max_rows:
        raise _too_many(len(frame), max_rows)
    if len(frame) == 0:
        problems.add(0, "(file)", "the file has a header but no assets")
        return {}, 0
    return {name: pa.array(frame[name].to_numpy(dtype=object), pa.string()) for name in names}, len(frame)


def _arrow_columns(path: Path, names: list[str], max_rows: int) -> tuple[dict[str, pa.Array], int] | None:
    """The text columns read by Arrow's multi-threaded CSV reader, or None to take pandas' path.

    Arrow reads a well-formed file several times faster than pandas; anything it refuses
    (a row with too few or too many cells, bad UTF-8, a broken quote) goes to pandas, whose
    messages name the line.
    """
    options = pa_csv.ConvertOptions(column_types={name: pa.string() for name in names}, strings_can_be_null=False,
                                    quoted_strings_can_be_null=False, check_utf8=True)
    try:
        table = pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
                                parse_options=pa_csv.ParseOptions(newlines_in_values=True), convert_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    if table.num_rows > max_rows:
        raise _too_many(table.num_rows, max_rows)
    if table.num_rows == 0:
        return None
    return {name: arrow_text(table.column(name)) for name in names}, table.num_rows


def _header_ok(names: Sequence[str], problems: ProblemCollector) -> bool:
    ok = True
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(0, name, "column appears twice in the header")
            ok = False
        seen.add(name)
        if name not in ASSET_FIELDS:
            problems.add(0, name or "(header)", f"unknown column; the columns are {', '.join(ASSET_FIELDS)}")
            ok = False
    for name in REQUIRED_FIELDS:
        if name not in seen:
            problems.add(0, name, "required column is missing")
            ok = False
    return ok


def json_columns(assets: object, problems: ProblemCollector, max_rows: int) -> tuple[dict[str, pa.Array], int]:
    """Text columns of JSON asset objects; a value of the wrong JSON type is a problem of its row."""
    if not isinstance(assets, list):
        problems.add(0, "assets", "must be a list of asset objects")
        return {}, 0
    if len(assets) > max_rows:
        raise _too_many(len(assets), max_rows)
    if not assets:
        problems.add(0, "assets", "the pack holds no assets")
        return {}, 0
    count = len(assets)
    columns: dict[str, list[str]] = {name: [""] * count for name in ASSET_FIELDS}
    integer_fields = set(INTEGER_FIELDS)
    known = set(ASSET_FIELDS)
    for position, asset in enumerate(assets):
        row = position + 1
        if not isinstance(asset, dict):
            problems.add(row, "(row)", f"must be an object, got {type(asset).__name__}")
            continue
        for name, value in asset.items():
            if name not in known:
                problems.add(row, name, "unknown field")
            elif value is None:
                continue
            elif name in integer_fields:
                if isinstance(value, int) and not isinstance(value, bool):
                    columns[name][position] = str(value)
                else:
                    problems.add(row, name, f"must be an integer (minor units, basis points or months), got {value!r}")
            elif name == "collateral_ids":
                columns[name][position] = _collateral_text(value, row, problems)
            elif isinstance(value, str):
                columns[name][position] = value
            else:
                problems.add(row, name, f"must be a string, got {value!r}")
    return {name: pa.array(values, pa.string()) for name, values in columns.items()}, count


def _collateral_text(value: object, row: int, problems: ProblemCollector) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if any(not item or COLLATERAL_SEPARATOR in item for item in value):
            problems.add(row, "collateral_ids", f"each collateral id must be non-empty and free of "
                                                f"'{COLLATERAL_SEPARATOR}', got {value!r}")
            return ""
        return COLLATERAL_SEPARATOR.join(value)
    problems.add(row, "collateral_ids", f"must be a list of strings, got {value!r}")
    return ""
