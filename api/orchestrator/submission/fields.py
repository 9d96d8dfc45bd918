"""The fields of a submitted asset and the one canonical form every party hashes.

An asset's record hash is ``keccak256`` of its canonical JSON (``chain.leaves.canonical_json``:
sorted keys, compact, UTF-8) over exactly these fields, with money in integer minor units,
dates as ISO strings and collateral ids as a list. An auditor holding a row of the ``asset``
table recomputes it with :func:`canonical_record` and ``chain.leaves.record_hash``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.data.schema import LOAN

# The submitted columns, in the order a CSV header lists them.
ASSET_FIELDS: tuple[str, ...] = (
    "loan_id",
    "borrower_id",
    "principal_minor",
    "outstanding_balance_minor",
    "annual_rate_bps",
    "term_months",
    "origination_date",
    "maturity_date",
    "collateral_ids",
    "industry",
    "region",
)
REQUIRED_FIELDS: tuple[str, ...] = tuple(name for name in ASSET_FIELDS if LOAN.field(name).required)
INTEGER_FIELDS: tuple[str, ...] = ("principal_minor", "outstanding_balance_minor", "annual_rate_bps", "term_months")
DATE_FIELDS: tuple[str, ...] = ("origination_date", "maturity_date")
TEXT_FIELDS: tuple[str, ...] = ("loan_id", "borrower_id", "industry", "region")
MAX_TEXT = 64
MAX_COLLATERAL = 1000
COLLATERAL_SEPARATOR = ";"

# The tree whose root `submitPack` anchors: one leaf per submitted asset.
SUBMITTED_ASSET_LEAF = ("bytes32", "bytes32")  # asset id, loan-record hash


@dataclass(frozen=True)
class IntegerBounds:
    lowest: int
    highest: int
    why: str = ""


# A loan lends something (principal >= 1). An outstanding balance of 0 is valid (a repaid loan)
# but has nothing to securitise: the pipeline excludes it before scoring, with reason "repaid".
INTEGER_BOUNDS: dict[str, IntegerBounds] = {
    "principal_minor": IntegerBounds(1, 10**17, "minor currency units"),
    "outstanding_balance_minor": IntegerBounds(0, 10**17, "minor currency units"),
    "annual_rate_bps": IntegerBounds(int(LOAN.field("annual_rate_bps").lower), int(LOAN.field("annual_rate_bps").upper),
                                     "basis points"),
    "term_months": IntegerBounds(int(LOAN.field("term_months").lower), int(LOAN.field("term_months").upper), "months"),
}

_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def json_string(value: str) -> str:
    """``json.dumps(value, ensure_ascii=False)``, without the call for the common plain string."""
    return json.dumps(value, ensure_ascii=False) if _NEEDS_ESCAPE.search(value) else f'"{value}"'


def collateral_list(value: str) -> list[str]:
    return [item for item in value.split(COLLATERAL_SEPARATOR)] if value else []


def canonical_record(row: dict) -> dict:
    """The canonical loan record of one stored or submitted row (values already validated)."""
    def iso(value: date | str) -> str:
        return value if isinstance(value, str) else value.isoformat()

    return {
        "annual_rate_bps": int(row["annual_rate_bps"]),
        "borrower_id": row["borrower_id"],
        "collateral_ids": collateral_list(row.get("collateral_ids") or ""),
        "industry": row["industry"],
        "loan_id": row["loan_id"],
        "maturity_date": iso(row["maturity_date"]),
        "origination_date": iso(row["origination_date"]),
        "outstanding_balance_minor": int(row["outstanding_balance_minor"]),
        "principal_minor": int(row["principal_minor"]),
        "region": row["region"],
        "term_months": int(row["term_months"]),
    }


def _plain(values: list[str]) -> bool:
    """True if no string of the column needs a JSON escape (one regex pass over all of it)."""
    return _NEEDS_ESCAPE.search("".join(values)) is None


def _quoted(values: list[str]) -> list[str]:
    """Each string as a JSON string literal."""
    if _plain(values):
        return ['"' + value + '"' for value in values]
    return [json_string(value) for value in values]


def _collateral_json(values: list[str]) -> list[str]:
    if _plain(values):
        return ['["' + value.replace(COLLATERAL_SEPARATOR, '","') + '"]' if value else "[]" for value in values]
    return ["[" + ",".join(json_string(item) for item in collateral_list(value)) + "]" for value in values]


def _integers(values: Sequence[int] | np.ndarray) -> list[str]:
    return list(map(str, np.asarray(values, dtype=np.int64).tolist()))


def canonical_json_rows(columns: dict[str, Sequence]) -> list[bytes]:
    """Canonical JSON bytes of every row, built column by column (a million rows in about a second).

    Byte for byte what ``chain.leaves.canonical_json(canonical_record(row))`` gives (keys in sorted
    order, compact, UTF-8); a test checks the two agree, escapes and non-ASCII text included.
    """
    def text(name: str) -> list[str]:
        return texts(columns[name])

    parts = zip(
        _integers(columns["annual_rate_bps"]), _quoted(text("borrower_id")), _collateral_json(text("collateral_ids")),
        _quoted(text("industry")), _quoted(text("loan_id")), text("maturity_date"), text("origination_date"),
        _integers(columns["outstanding_balance_minor"]), _integers(columns["principal_minor"]),
        _quoted(text("region")), _integers(columns["term_months"]),
    )
    return [
        (f'{{"annual_rate_bps":{a},"borrower_id":{b},"collateral_ids":{c},"industry":{i},"loan_id":{lo},'
         f'"maturity_date":"{m}","origination_date":"{o}","outstanding_balance_minor":{ob},'
         f'"principal_minor":{p},"region":{r},"term_months":{t}}}').encode()
        for a, b, c, i, lo, m, o, ob, p, r, t in parts
    ]


# -- the same canonical JSON, built in Arrow ------------------------------------------------

_ARROW_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'  # _NEEDS_ESCAPE in RE2 syntax


def texts(values: Sequence[str] | np.ndarray | pa.Array) -> list[str]:
    """A text column (list, numpy or Arrow array) as a list of Python strings."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_pylist()
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _arrow_text(values: Sequence[str] | np.ndarray | pa.Array) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.cast(pa.large_string())
    return pa.array(values, type=pa.large_string())


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, type=pa.large_string())


def _arrow_quoted(values: Sequence[str] | np.ndarray) -> pa.Array:
    column = _arrow_text(values)
    if pc.any(pc.match_substring_regex(column, _ARROW_NEEDS_ESCAPE)).as_py():
        return _arrow_text(_quoted(texts(values)))
    return pc.binary_join_element_wise(_lit('"'), column, _lit('"'), _lit(""))


def _arrow_collateral(values: Sequence[str] | np.ndarray) -> pa.Array:
    column = _arrow_text(values)
    if pc.any(pc.match_substring_regex(column, _ARROW_NEEDS_ESCAPE)).as_py():
        return _arrow_text(_collateral_json(texts(values)))
    listed = pc.binary_join_element_wise(_lit('["'), pc.replace_substring(column, COLLATERAL_SEPARATOR, '","'),
                                         _lit('"]'), _lit(""))
    return pc.if_else(pc.equal(column, _lit("")), _lit("[]"), listed)


def _arrow_integers(values: Sequence[int] | np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.large_string())


def canonical_json_column(columns: dict[str, Sequence]) -> pa.Array:
    """``canonical_json_rows`` as one Arrow large-string array, built by Arrow's kernels: the
    same bytes (a test checks it), without a Python string per row. A column holding a
    character JSON escapes is quoted by the Python path, exactly as there."""
    parts = [
        '{"annual_rate_bps":', _arrow_integers(columns["annual_rate_bps"]),
        ',"borrower_id":', _arrow_quoted(columns["borrower_id"]),
        ',"collateral_ids":', _arrow_collateral(columns["collateral_ids"]),
        ',"industry":', _arrow_quoted(columns["industry"]),
        ',"loan_id":', _arrow_quoted(columns["loan_id"]),
        ',"maturity_date":"', _arrow_text(columns["maturity_date"]),
        '","origination_date":"', _arrow_text(columns["origination_date"]),
        '","outstanding_balance_minor":', _arrow_integers(columns["outstanding_balance_minor"]),
        ',"principal_minor":', _arrow_integers(columns["principal_minor"]),
        ',"region":', _arrow_quoted(columns["region"]),
        ',"term_months":', _arrow_integers(columns["term_months"]), "}",
    ]
    return pc.binary_join_element_wise(*(_lit(part) if isinstance(part, str) else part for part in parts), _lit(""))


def packed(column: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The UTF-8 bytes and int64 offsets of an Arrow (large) string array: row i is
    data[offsets[i]:offsets[i + 1]] (``chain.merkle_hashing.keccak256_packed``'s input)."""
    column = column.cast(pa.large_string()) if column.type != pa.large_string() else column
    if column.null_count:
        raise ValueError("a packed column must not hold nulls")
    _, offsets, data = column.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[column.offset:column.offset + len(column) + 1]
    return memoryview(data) if data is not None else memoryview(b""), bounds
