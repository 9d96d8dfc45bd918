"""Reading a product's holdings as columns, and writing a cycle's per-asset results in bulk."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from api.db.bulk import as_bytes, insert_columns, select_rows
from api.monitoring.models import LIVE, REPLACED, CycleScore

COLUMNS = ("loan_id", "borrower_id", "asset_id", "record_hash", "entry_cycle", "entry_score", "entry_level",
           "entry_pd_ppm", "vintage", "balance_minor", "status", "status_cycle", "score", "level", "pd_ppm",
           "collateral_ids", "cadence", "next_reminder", "last_reminder")


def load_holdings(session: Session, product_id: int) -> pd.DataFrame:
    """Every holding of the product (replaced ones too), ordered by loan id."""
    rows = select_rows(session, f"SELECT {', '.join(COLUMNS)} FROM holding WHERE product_id = :p ORDER BY loan_id",
                       {"p": product_id})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for name in ("asset_id", "record_hash"):
        if len(frame) and not isinstance(frame[name].iloc[0], bytes):
            frame[name] = [as_bytes(v) for v in frame[name]]
    for name in ("next_reminder", "last_reminder"):
        if len(frame) and isinstance(frame[name].iloc[0], str) or frame[name].map(type).eq(str).any():
            parsed = pd.to_datetime(frame[name], format="%Y-%m-%d", errors="coerce")
            frame[name] = [d.date() if not pd.isna(d) else None for d in parsed]
    return frame


def live(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] == LIVE]


def pool(frame: pd.DataFrame) -> pd.DataFrame:
    """The pool the pack root commits to: every holding that was not replaced away."""
    return frame[frame["status"] != REPLACED]


def update_holdings(session: Session, product_id: int, loan_ids: list[str], **columns: list) -> None:
    """Set ``columns`` (equally long lists) of the named holdings, in the session's transaction."""
    if not loan_ids:
        return
    names = list(columns)
    sql = text(f"UPDATE holding SET {', '.join(f'{n} = :{n}' for n in names)} WHERE product_id = :p AND loan_id = :l")
    params = [{"p": product_id, "l": loan, **{n: _plain(columns[n][i]) for n in names}} for i, loan in enumerate(loan_ids)]
    session.connection().execute(sql, params)


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def store_cycle_scores(session: Session, product_id: int, cycle: int, loan_ids: list[str], scores: np.ndarray,
                       levels: np.ndarray, pd_ppm: np.ndarray, reasons: list[str | None]) -> None:
    n = len(loan_ids)
    insert_columns(session, CycleScore.__tablename__, {
        "product_id": np.full(n, product_id, dtype=np.int64), "cycle": np.full(n, cycle, dtype=np.int64),
        "loan_id": loan_ids, "score": np.asarray(scores, dtype=np.int64), "level": np.asarray(levels, dtype=np.int64),
        "pd_ppm": np.asarray(pd_ppm, dtype=np.int64), "credit_reason": reasons,
    })
