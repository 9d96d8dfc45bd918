"""api.db.bulk: what a bulk insert stores is exactly what it was given, on PostgreSQL (Arrow-formatted
CSV ``COPY``) and on SQLite (``executemany``) alike: NULL stays NULL and "" stays "", quotes,
separators, newlines, backslashes and ``\\.`` survive, binary rows keep their bytes, a masked
row or NaT is NULL, and a key violation surfaces as SQLAlchemy's ``IntegrityError`` with nothing
of the batch stored."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.db.bulk import COPY_CHUNK_ROWS, insert_columns, select_rows
from api.db.engine import make_engine
from support import PostgresSchema

TRICKY = ["plain", "", None, 'quote " and, comma', "new\nline\r\n", "back\\slash \\N \\x00", "\\.", "\t tab",
          "é ü € 漢字", " lead and trail "]
COUNT = len(TRICKY)
TABLE = ("CREATE TABLE bulk_probe (id BIGINT PRIMARY KEY, label TEXT, blob BYTEA, day DATE, flag BOOLEAN, "
         "amount BIGINT, ids BYTEA, other TEXT)")


def _columns(offset: int = 0) -> dict:
    ids = np.arange(COUNT, dtype=np.int64) + offset
    blobs = np.arange(COUNT * 32, dtype=np.int64).reshape(COUNT, 32).astype(np.uint8)
    mask = np.zeros((COUNT, 32), dtype=bool)
    mask[[1, 4]] = True
    days = np.array(["2024-02-29", "NaT", "1999-12-31", "2031-01-01", "NaT", "2024-01-01", "2024-01-02",
                     "2024-01-03", "2024-01-04", "2024-01-05"], dtype="datetime64[D]")
    return {
        "id": ids, "label": TRICKY, "blob": np.ma.MaskedArray(blobs, mask=mask), "day": days,
        "flag": np.arange(COUNT) % 3 == 0, "amount": [None if i % 4 == 1 else 2**62 + i for i in range(COUNT)],
        "ids": [None if i == 2 else bytes([i]) * 3 for i in range(COUNT)],
        "other": pa.array([f"u{i}-ü" for i in range(COUNT)]),
    }


def _expected(offset: int = 0) -> list[tuple]:
    columns = _columns(offset)
    rows = []
    for i in range(COUNT):
        blob = None if i in (1, 4) else bytes(columns["blob"].data[i])
        day = columns["day"][i]
        rows.append((i + offset, TRICKY[i], blob, None if np.isnat(day) else day.astype(dt.date),
                     bool(columns["flag"][i]), columns["amount"][i], columns["ids"][i], f"u{i}-ü"))
    return rows


def _stored(session: Session) -> list[tuple]:
    rows = select_rows(session, "SELECT id, label, blob, day, flag, amount, ids, other FROM bulk_probe ORDER BY id")
    return [(r[0], r[1], None if r[2] is None else bytes(r[2]),
             dt.date.fromisoformat(r[3]) if isinstance(r[3], str) else r[3], bool(r[4]), r[5],
             None if r[6] is None else bytes(r[6]), r[7]) for r in rows]


@pytest.fixture(params=["postgres", "sqlite"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
        schema = None
    else:
        schema = PostgresSchema("bulk")
        made = make_engine(schema.url)
    with made.begin() as connection:
        connection.execute(text(TABLE))
    yield made
    made.dispose()
    if schema is not None:
        schema.close()


def test_every_value_comes_back_as_given(engine):
    with Session(engine) as session:
        insert_columns(session, "bulk_probe", _columns())
        session.commit()
    with Session(engine) as session:
        assert _stored(session) == _expected()


def test_a_key_violation_is_an_integrity_error_and_stores_nothing(engine):
    with Session(engine) as session:
        insert_columns(session, "bulk_probe", _columns())
        session.commit()
    clashing = _columns(offset=COUNT - 1)  # the first id is the last one stored
    with Session(engine) as session:
        with pytest.raises(IntegrityError):
            insert_columns(session, "bulk_probe", clashing)
        session.rollback()
    with Session(engine) as session:
        assert _stored(session) == _expected()


def test_many_rows_cross_the_copy_chunks_in_order(engine):
    count = COPY_CHUNK_ROWS + 1234
    ids = np.arange(count, dtype=np.int64)
    blobs = np.random.default_rng(7).integers(0, 256, (count, 32), dtype=np.uint8)
    with Session(engine) as session:
        insert_columns(session, "bulk_probe", {"id": ids, "label": np.char.add("row-", ids.astype(str)), "ids": blobs})
        session.commit()
    with Session(engine) as session:
        rows = select_rows(session, "SELECT id, label, ids FROM bulk_probe ORDER BY id")
    assert len(rows) == count
    assert [r[1] for r in rows[::9973]] == [f"row-{i}" for i in range(0, count, 9973)]
    assert b"".join(bytes(r[2]) for r in rows) == blobs.tobytes()
