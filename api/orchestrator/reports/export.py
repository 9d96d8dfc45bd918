"""CSV exports of a pack's kept, removed and excluded assets, streamed in pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.db.bulk import as_bytes, select_rows
from chain.leaves import to_hex32

COLUMNS = ("row", "loan_id", "borrower_id", "outstanding_balance_minor", "score", "level", "pd_ppm", "outcome",
           "removal_rank", "reason", "asset_id", "record_hash")
PAGE = 20_000


def export_rows(engine: Engine, pack_id: int, outcome: str) -> Iterator[str]:
    """CSV text of one outcome's assets (header first), in row order, a page at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    after = 0
    while True:
        with Session(engine) as session:
            rows = select_rows(
                session,
                "SELECT a.row_no, a.loan_id, a.borrower_id, a.outstanding_balance_minor, s.score, s.level, s.pd_ppm, "
                "o.outcome, o.removal_rank, o.reason, a.asset_id, a.record_hash FROM asset_outcome o "
                "JOIN asset a ON a.pack_id = o.pack_id AND a.row_no = o.row_no LEFT JOIN asset_score s "
                "ON s.pack_id = o.pack_id AND s.row_no = o.row_no WHERE o.pack_id = :p AND o.outcome = :o "
                f"AND o.row_no > :after ORDER BY o.row_no LIMIT {PAGE}",
                {"p": pack_id, "o": outcome, "after": after},
            )
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([*row[:10], to_hex32(as_bytes(row[10])), to_hex32(as_bytes(row[11]))])
        yield buffer.getvalue()
        after = rows[-1][0]
