"""The notice outbox: repayment reminders, replacement instructions and escalations.

Notices are written in the same transaction as the change that causes them. Each cycle
schedules every live loan's reminders until the next cycle (its cadence can only change at a
cycle), and ``dispatch`` sends each notice through the configured ``NoticeAdapter`` once its day
has come; a loan that leaves the pool has its pending reminders cancelled. a notice whose send raises stays
pending and is tried again on the next dispatch (at most ``MAX_ATTEMPTS`` times).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import text
from sqlmodel import Session, select

from api.db.bulk import insert_columns
from api.monitoring import holdings as store
from api.monitoring.models import WEEKLY, MonitoredProduct, MonitoringCycle, Notice
from api.orchestrator.models import utcnow
from scoring.monitoring.reminders import Cadence, next_due

if TYPE_CHECKING:
    from api.monitoring.service import MonitoringService

MAX_ATTEMPTS = 5
SEND_PAGE = 5_000


def add_notice(session: Session, product_id: int, *, channel: str, recipient: str, kind: str, subject: str,
               due_on: date, body: dict) -> None:
    exists = session.exec(select(Notice.id).where(Notice.kind == kind, Notice.recipient == recipient,
                                                  Notice.subject == subject, Notice.due_on == due_on)).first()
    if exists is None:
        session.add(Notice(product_id=product_id, channel=channel, recipient=recipient, kind=kind, subject=subject,
                           due_on=due_on, body=body))


def queue_reminders(session: Session, product_id: int, before: date) -> int:
    """Schedule every live loan's reminders due before ``before`` (the next cycle's date) in the
    outbox; ``dispatch`` sends each once its day has come. Returns the count."""
    holdings = store.live(store.load_holdings(session, product_id))
    due = holdings[holdings["next_reminder"] < before]
    columns: dict[str, list] = {name: [] for name in ("recipient", "subject", "due_on", "body")}
    loans, nexts, lasts = [], [], []
    for row in due.itertuples(index=False):
        cadence = Cadence.WEEKLY if row.cadence == WEEKLY else Cadence.MONTHLY
        day = row.next_reminder
        while day < before:
            columns["recipient"].append(f"borrower:{row.borrower_id}")
            columns["subject"].append(row.loan_id)
            columns["due_on"].append(day)
            columns["body"].append(json.dumps({"loan_id": row.loan_id, "cadence": row.cadence,
                                               "balance_minor": int(row.balance_minor)}))
            last, day = day, next_due(day, cadence)
        loans.append(row.loan_id)
        nexts.append(day)
        lasts.append(last)
    n = len(columns["subject"])
    if n:
        insert_columns(session, Notice.__tablename__, {
            "product_id": np.full(n, product_id, dtype=np.int64), "channel": ["sms"] * n, **columns,
            "kind": ["repayment_reminder"] * n, "status": ["pending"] * n, "attempts": np.zeros(n, dtype=np.int64),
            "created_at": [utcnow()] * n,
        })
        store.update_holdings(session, product_id, loans, next_reminder=nexts, last_reminder=lasts)
    return n


def remind_step(service: MonitoringService, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
    """The cycle's last step: schedule reminders until the next cycle, send what is due, finish."""
    from api.monitoring.cycle import cycle_date, finish

    with Session(service.o.engine) as session:
        queued = queue_reminders(session, product.product_id, cycle_date(product, row.cycle + 1))
        cycle = session.get(MonitoringCycle, (product.product_id, row.cycle))
        cycle.summary = {**cycle.summary, "reminders_queued": queued}
        session.add(cycle)
        session.commit()
    dispatch(service, product.product_id, up_to=row.as_of)
    return finish(service, product, row)


def cancel_reminders(session: Session, product_id: int, loan_ids: list[str]) -> None:
    """Loans that left the pool get no more reminders."""
    for start in range(0, len(loan_ids), 500):
        chunk = loan_ids[start:start + 500]
        marks = ", ".join(f":l{i}" for i in range(len(chunk)))
        session.connection().execute(
            text("UPDATE notice SET status = 'cancelled' WHERE product_id = :p AND kind = 'repayment_reminder' "
                 f"AND status = 'pending' AND subject IN ({marks})"),
            {"p": product_id, **{f"l{i}": loan for i, loan in enumerate(chunk)}})


def dispatch(service: MonitoringService, product_id: int | None = None, *, up_to: date | None = None) -> int:
    """Send every pending notice due by ``up_to`` (default: today), of one product or all; returns how many."""
    up_to = up_to or date.today()
    sent = 0
    columns = (Notice.id, Notice.channel, Notice.recipient, Notice.kind, Notice.subject, Notice.due_on, Notice.body)
    while True:
        with Session(service.o.engine) as session:
            query = select(*columns).where(Notice.status == "pending", Notice.attempts < MAX_ATTEMPTS,
                                           Notice.due_on <= up_to)
            if product_id is not None:
                query = query.where(Notice.product_id == product_id)
            page = session.exec(query.order_by(Notice.id).limit(SEND_PAGE)).all()
            if not page:
                return sent
            ok, failed = [], []
            for notice_id, channel, recipient, kind, subject, due_on, body in page:
                try:
                    service.notices.send({"id": notice_id, "channel": channel, "recipient": recipient, "kind": kind,
                                          "subject": subject, "due_on": due_on.isoformat(), "body": body})
                    ok.append(notice_id)
                except Exception:  # noqa: BLE001 - any adapter failure leaves the notice for a retry
                    failed.append(notice_id)
            connection = session.connection()
            if ok:
                connection.execute(text("UPDATE notice SET status = 'sent', sent_at = :t, attempts = attempts + 1 "
                                        "WHERE id = :i"), [{"t": utcnow(), "i": i} for i in ok])
            if failed:
                connection.execute(text("UPDATE notice SET attempts = attempts + 1, status = CASE WHEN attempts + 1 "
                                        f">= {MAX_ATTEMPTS} THEN 'failed' ELSE 'pending' END WHERE id = :i"),
                                   [{"i": i} for i in failed])
            session.commit()
            sent += len(ok)
            if failed and not ok:
                return sent
