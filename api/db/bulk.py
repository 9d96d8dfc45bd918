"""Bulk writes and reads of many rows inside the caller's transaction.

A million-row pack is written with PostgreSQL's ``COPY`` (psycopg 3) or SQLite's
``executemany`` on the raw driver connection, in the same transaction as the session that asks,
so a step's rows are stored wholly or not at all. For ``COPY`` the columns become one Arrow
table (numpy columns without a copy, binary ones as hex in one numpy pass) that Arrow's CSV
writer formats: no Python object per value, which is what a million rows used to cost most.
Reads go straight to the driver too: building a million ORM objects would cost more than the
pipeline step itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

COPY_CHUNK_ROWS = 100_000
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")  # every text quoted: "" is not NULL
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
Column = Sequence[Any] | np.ndarray | pa.Array


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _bytea_hex(matrix: np.ndarray) -> pa.Array:
    """Fixed-width binary rows as PostgreSQL's ``\\x`` hex text, built in one numpy pass (a masked row: NULL)."""
    raw = np.ascontiguousarray(np.ma.getdata(matrix), dtype=np.uint8)
    count, width = raw.shape
    text = np.empty((count, 2 + 2 * width), dtype=np.uint8)
    text[:, 0], text[:, 1] = ord("\\"), ord("x")
    text[:, 2::2], text[:, 3::2] = _HEX_DIGITS[raw >> 4], _HEX_DIGITS[raw & 15]
    offsets = np.arange(0, (count + 1) * text.shape[1], text.shape[1], dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))
    if isinstance(matrix, np.ma.MaskedArray):
        null = np.ma.getmaskarray(matrix).any(axis=1)
        if null.any():
            array = pa_compute.if_else(pa.array(null), pa.scalar(None, pa.large_string()), array)
    return array


def _arrow_column(values: Column) -> pa.Array:
    """One column as an Arrow array that PostgreSQL's CSV ``COPY`` reads back as the value given."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, np.ndarray) and values.ndim == 2:  # fixed-width binary values, one row each
        return _bytea_hex(values)
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":  # dates: NaT is NULL
        return pa.array(values.astype("datetime64[D]"), from_pandas=True)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iubU":
        return pa.array(values)
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, (bytes, bytearray, memoryview)):
        return pa.array([None if value is None else "\\x" + bytes(value).hex() for value in values], pa.string())
    if isinstance(sample, (str, bool, int, date)) or sample is None:
        return pa.array(values, pa.string() if sample is None else None)
    return pa.array([None if value is None else str(value) for value in values], pa.string())


def _plain(values: Column) -> Sequence[Any]:
    """One column as Python values for a driver (a 2-D uint8 array: one ``bytes`` per row)."""
    if isinstance(values, np.ndarray) and values.ndim == 2:
        raw, width = np.asarray(values).tobytes(), values.shape[1]
        rows: list[bytes | None] = [raw[start:start + width] for start in range(0, len(raw), width)]
        if isinstance(values, np.ma.MaskedArray):
            for row in np.flatnonzero(np.ma.getmaskarray(values).any(axis=1)).tolist():
                rows[row] = None
        return rows
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype(object).tolist()  # datetime.date, None for NaT
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_pylist()
    return values.tolist() if isinstance(values, np.ndarray) else values


def insert_columns(session: Session, table: str, columns: Mapping[str, Column]) -> None:
    """Insert rows given as equally long columns into ``table``, in the session's transaction.

    A column is a sequence, a numpy array or an Arrow array; a 2-D uint8 array is a binary column, one row each
    (a masked row of a ``numpy.ma`` array is NULL); a datetime64[D] array is a date column (NaT:
    NULL).
    """
    count = len(next(iter(columns.values()))) if columns else 0
    if count == 0:
        return
    names = list(columns)
    driver = _driver_connection(session)
    try:
        if is_postgres(session):
            statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
            copy_columns(driver, table, columns)
            return
        statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        plain = [_plain(column) for column in columns.values()]
        cursor = driver.cursor()
        try:
            cursor.executemany(statement, zip(*plain))
        finally:
            cursor.close()
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as exc:
        # The driver's own error: raise it as SQLAlchemy's, like every other write of the session.
        raise IntegrityError(statement, None, exc) from exc


def copy_columns(driver: psycopg.Connection, table: str, columns: Mapping[str, Column]) -> None:
    """PostgreSQL ``COPY`` of equally long columns into ``table`` on a psycopg connection, in its transaction.

    Arrow's CSV writer formats the rows (in C++, without the GIL), a chunk at a time, while a
    psycopg worker thread sends the previous chunk: formatting and the server's parsing overlap.
    """
    names = list(columns)
    data = pa.table({name: _arrow_column(columns[name]) for name in names})
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
    with driver.cursor() as cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for start in range(0, data.num_rows, COPY_CHUNK_ROWS):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(data.slice(start, COPY_CHUNK_ROWS), sink, CSV_OPTIONS)
            copy.write(memoryview(sink.getvalue()))


def select_rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """All rows of ``sql`` (named ``:params``) as plain tuples."""
    result = session.connection().execute(text(sql), params or {})
    return [tuple(row) for row in result.fetchall()]


def as_bytes(value: Any) -> bytes | None:
    """A binary column as bytes (psycopg returns memoryview)."""
    return None if value is None else bytes(value)
