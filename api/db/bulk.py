"""Bulk writes and reads of many rows inside the caller's transaction.

A million-row pack is written with PostgreSQL's ``COPY`` (psycopg 3) or SQLite's
``executemany`` on the raw driver connection, in the same transaction as the session that asks,
so a step's rows are stored wholly or not at all. For ``COPY`` the text is formatted column by
column (one pass per column, then one join per row), which costs a fraction of psycopg's
per-row ``write_row``. Reads go straight to the driver too: building a million ORM objects would
cost more than the pipeline step itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

COPY_CHUNK_ROWS = 50_000
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
Column = Sequence[Any] | np.ndarray


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _copy_text(values: Column) -> list[str]:
    """One column in COPY's text format (``\\N`` for NULL, escaped text, ``\\x`` hex for bytes)."""
    if isinstance(values, np.ndarray) and values.ndim == 2:  # fixed-width binary values, one row each
        width = 2 * values.shape[1]
        text = np.asarray(values).tobytes().hex()
        formatted = ["\\\\x" + text[start:start + width] for start in range(0, len(text), width)]
        if isinstance(values, np.ma.MaskedArray):  # a masked row is NULL
            for row in np.flatnonzero(np.ma.getmaskarray(values).any(axis=1)).tolist():
                formatted[row] = "\\N"
        return formatted
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":  # dates: NaT is NULL
        text = np.datetime_as_string(values)
        return np.where(np.isnat(values), "\\N", text).tolist()
    if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
        if values.dtype.kind == "b":
            return ["t" if value else "f" for value in values.tolist()]
        return list(map(str, values.tolist()))
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, (bytes, bytearray, memoryview)):
        return ["\\N" if value is None else "\\\\x" + bytes(value).hex() for value in values]
    if isinstance(sample, bool):
        return ["\\N" if value is None else ("t" if value else "f") for value in values]
    if isinstance(sample, str) or sample is None:
        if any(value is None for value in values):
            values = ["\\N" if value is None else value.translate(_COPY_ESCAPES) for value in values]
            return values
        if _COPY_SPECIAL.search("".join(values)):
            return [value.translate(_COPY_ESCAPES) for value in values]
        return values
    return ["\\N" if value is None else str(value) for value in values]


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
    return values.tolist() if isinstance(values, np.ndarray) else values


def insert_columns(session: Session, table: str, columns: Mapping[str, Column]) -> None:
    """Insert rows given as equally long columns into ``table``, in the session's transaction.

    A column is a sequence or a numpy array; a 2-D uint8 array is a binary column, one row each
    (a masked row of a ``numpy.ma`` array is NULL); a datetime64[D] array is a date column (NaT:
    NULL).
    """
    names = list(columns)
    count = len(next(iter(columns.values()))) if columns else 0
    if count == 0:
        return
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
    """PostgreSQL ``COPY`` of equally long columns into ``table`` on a psycopg connection, in its transaction."""
    names = list(columns)
    count = len(next(iter(columns.values()))) if columns else 0
    formatted = [_copy_text(columns[name]) for name in names]
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for start in range(0, count, COPY_CHUNK_ROWS):
            rows = zip(*(column[start:start + COPY_CHUNK_ROWS] for column in formatted))
            copy.write("\n".join(map("\t".join, rows)) + "\n")


def select_rows(session: Session, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """All rows of ``sql`` (named ``:params``) as plain tuples."""
    result = session.connection().execute(text(sql), params or {})
    return [tuple(row) for row in result.fetchall()]


def as_bytes(value: Any) -> bytes | None:
    """A binary column as bytes (psycopg returns memoryview)."""
    return None if value is None else bytes(value)
