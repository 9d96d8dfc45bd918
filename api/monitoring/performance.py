"""Loan performance reports from the servicer: defaults, prepayments and outstanding balances.

A report names loans of the product's pool with a status (performing, defaulted, prepaid) and
the outstanding balance. Every row is checked first (a loan of the pool, a known status, a
non-negative integer balance, no return from default or prepayment, no loan twice); any
problem refuses the whole report with row, field and problem, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from api.errors import InvalidInputError
from api.monitoring import holdings as store
from api.monitoring.outbox import cancel_reminders
from api.monitoring.models import DEFAULTED, LIVE, MATURED, PREPAID, MonitoredProduct

STATUSES = {"performing": LIVE, "defaulted": DEFAULTED, "prepaid": PREPAID, "matured": MATURED}
MAX_PROBLEMS = 100


def _problems(rows: Sequence[Mapping[str, Any]], holdings: dict[str, tuple[str, int]]) -> list[dict]:
    problems: list[dict] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        def problem(field: str, text: str) -> None:
            problems.append({"row": number, "field": field, "problem": text})

        loan = row.get("loan_id")
        if not isinstance(loan, str) or loan not in holdings:
            problem("loan_id", f"{loan!r} is not a loan of this product")
            continue
        if loan in seen:
            problem("loan_id", f"{loan} appears twice in the report")
        seen.add(loan)
        status = row.get("status")
        if status not in STATUSES:
            problem("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        elif holdings[loan][0] != LIVE and STATUSES[status] != holdings[loan][0]:
            problem("status", f"{loan} is already {holdings[loan][0]}; it cannot become {status}")
        balance = row.get("outstanding_balance_minor")
        if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
            problem("outstanding_balance_minor", f"{balance!r} is not a non-negative integer (minor units)")
    return problems


def record_performance(engine: Any, product: MonitoredProduct, rows: Sequence[Mapping[str, Any]], *,
                       only_live: bool = False) -> dict:
    """Apply a servicer's report before the product's next cycle; returns what changed.

    ``only_live`` (the simulated servicer, which reports every loan it ever had) skips rows of
    loans that already left the pool instead of refusing them.
    """
    if not rows and not only_live:
        raise InvalidInputError("a performance report needs at least one row")
    cycle = product.cycles_done + 1
    with Session(engine) as session:
        frame = store.load_holdings(session, product.product_id)
        holdings = dict(zip(frame["loan_id"], zip(frame["status"], frame["balance_minor"].astype(int))))
        if only_live:
            rows = [r for r in rows if r.get("loan_id") in holdings and holdings[r["loan_id"]][0] == LIVE]
        problems = _problems(rows, holdings)
        if problems:
            raise InvalidInputError(f"performance report refused: {len(problems)} problem(s), nothing was recorded",
                                    details={"total_problems": len(problems), "problems": problems[:MAX_PROBLEMS]})
        changed = [r for r in rows if holdings[r["loan_id"]][0] == LIVE and (
            STATUSES[r["status"]] != LIVE or int(r["outstanding_balance_minor"]) != holdings[r["loan_id"]][1])]
        loans = [r["loan_id"] for r in changed]
        statuses = [STATUSES[r["status"]] for r in changed]
        store.update_holdings(
            session, product.product_id, loans, status=statuses,
            status_cycle=[cycle if s != LIVE else None for s in statuses],
            balance_minor=[int(r["outstanding_balance_minor"]) for r in changed],
        )
        cancel_reminders(session, product.product_id, [loan for loan, s in zip(loans, statuses) if s != LIVE])
        session.commit()
    counts = {name: sum(r["status"] == name for r in rows) for name in STATUSES}
    return {"product_id": product.product_id, "cycle": cycle, "rows": len(rows), **counts}
