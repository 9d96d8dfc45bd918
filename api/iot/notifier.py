"""Borrower notices: an outbox in the database and a notifier interface that delivers them.

Disposal only writes outbox rows (in its own transaction), so a notice is never lost to a
crash and never blocks a freeze. ``Outbox.dispatch`` hands unsent rows to the notifier and
marks each sent, or records the error and tries again on the next pass. The default
``LoggingNotifier`` writes them to the log; an SMS or e-mail gateway implements ``send``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.db.engine import session_scope
from api.iot.models import OutboxNotice
from api.iot.records import Clock, now_ms, record_action

log = logging.getLogger("api.iot.notices")
MAX_ATTEMPTS = 10


class Notifier(Protocol):
    def send(self, notice: OutboxNotice) -> None:
        """Deliver the notice or raise; raising leaves it in the outbox for the next pass."""


class LoggingNotifier:
    def __init__(self) -> None:
        self.sent: list[OutboxNotice] = []

    def send(self, notice: OutboxNotice) -> None:
        log.info("notice to borrower %s: %s", notice.borrower_id, notice.subject)
        self.sent.append(notice)


class Outbox:
    def __init__(self, engine: Engine, notifier: Notifier, *, clock: Clock) -> None:
        self.engine = engine
        self.notifier = notifier
        self.clock = clock

    def dispatch(self, limit: int = 100) -> int:
        with Session(self.engine) as session:
            pending = session.exec(
                select(OutboxNotice).where(OutboxNotice.sent_at_ms.is_(None), OutboxNotice.attempts < MAX_ATTEMPTS)
                .order_by(OutboxNotice.id).limit(limit)
            ).all()
        sent = 0
        for notice in pending:
            error = None
            try:
                self.notifier.send(notice)
            except Exception as exc:  # any delivery failure is retried later
                error = f"{type(exc).__name__}: {exc}"
            at = now_ms(self.clock)
            with session_scope(self.engine) as session:
                row = session.get(OutboxNotice, notice.id)
                row.attempts += 1
                row.last_error = error
                if error is None:
                    row.sent_at_ms = at
                    sent += 1
                    record_action(session, "notice_sent", at, warning_id=row.warning_id,
                                  detail={"borrower": row.borrower_id, "outbox": row.id})
                session.add(row)
        return sent
