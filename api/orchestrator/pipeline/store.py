"""Reading a pack's columns and writing each step's per-asset result, in bulk.

Every ``store_*`` runs inside the caller's transaction together with the pack row's summary,
so a step's result is stored wholly or not at all.
"""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from api.db.bulk import as_bytes, insert_columns, select_rows
from api.orchestrator.models import ChainTx, Pack, utcnow
from api.orchestrator.pipeline.chain_sync import Sent
from api.orchestrator.pipeline.steps import CreditOutcome, PackColumns
from api.orchestrator.ports import Scores


def _matrix(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), 32)


def load_columns(session: Session, pack_id: int) -> PackColumns:
    rows = select_rows(session, "SELECT row_no, loan_id, borrower_id, outstanding_balance_minor, asset_id, "
                                "record_hash FROM asset WHERE pack_id = :p ORDER BY row_no", {"p": pack_id})
    row_no, loan_id, borrower_id, balance, asset_id, record_hash = zip(*rows) if rows else ([],) * 6
    return PackColumns(
        row_no=np.asarray(row_no, dtype=np.int64),
        loan_id=np.asarray(loan_id, dtype=str),
        borrower_id=np.asarray(borrower_id, dtype=str),
        balance=np.asarray(balance, dtype=np.int64),
        asset_id=_matrix([as_bytes(v) for v in asset_id]),
        record_hash=_matrix([as_bytes(v) for v in record_hash]),
    )


def store_credit(session: Session, pack_id: int, columns: PackColumns, outcome: CreditOutcome) -> None:
    insert_columns(session, "asset_credit_check", {
        "pack_id": np.full(len(columns), pack_id, dtype=np.int64), "row_no": columns.row_no,
        "eligible": outcome.eligible, "reason": outcome.reason, "weight_ppm": outcome.weight_ppm,
        "credit_batch_id": outcome.credit_batch_id, "record_date": outcome.record_date,
        "salted_hash": outcome.salted_hash,
    })


def load_credit(session: Session, pack_id: int) -> tuple[np.ndarray, list[str | None], list[bytes | None]]:
    """(eligible per asset, reason per asset, salted hash per asset), in row order."""
    rows = select_rows(session, "SELECT eligible, reason, salted_hash FROM asset_credit_check WHERE pack_id = :p "
                                "ORDER BY row_no", {"p": pack_id})
    eligible = np.fromiter((bool(r[0]) for r in rows), dtype=bool, count=len(rows))
    return eligible, [r[1] for r in rows], [as_bytes(r[2]) for r in rows]


def store_scores(session: Session, pack_id: int, row_no: np.ndarray, scores: Scores) -> None:
    insert_columns(session, "asset_score", {
        "pack_id": np.full(row_no.size, pack_id, dtype=np.int64), "row_no": row_no,
        "score": np.asarray(scores.scores, dtype=np.int64), "level": np.asarray(scores.levels, dtype=np.int64),
        "pd_ppm": np.asarray(scores.pd_ppm, dtype=np.int64), "reason_codes": scores.reason_codes,
    })


def load_scores(session: Session, pack_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row_no, score, level, pd_ppm) of the scored assets, in row order."""
    rows = select_rows(session, "SELECT row_no, score, level, pd_ppm FROM asset_score WHERE pack_id = :p "
                                "ORDER BY row_no", {"p": pack_id})
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return tuple(np.asarray(column, dtype=np.int64) for column in zip(*rows))  # type: ignore[return-value]


def store_outcomes(session: Session, pack_id: int, row_no: np.ndarray, outcome: np.ndarray, rank: np.ndarray,
                   reason: np.ndarray) -> None:
    insert_columns(session, "asset_outcome", {
        "pack_id": np.full(len(row_no), pack_id, dtype=np.int64), "row_no": row_no, "outcome": outcome,
        "removal_rank": rank, "reason": reason,
    })


def record_sent(session: Session, pack_id: int, step: str, sent: Sent | None) -> None:
    if sent is None:
        return
    session.add(ChainTx(pack_id=pack_id, step=step, tx_hash=sent.tx_hash, block_number=sent.block_number,
                        sender=sent.sender, events=sent.events))


def touch(pack: Pack) -> Pack:
    pack.updated_at = utcnow()
    return pack
