"""``MonitoringService``: enrolment, cycles, performance reports and replacements of products.

One lock per product serialises its cycles and replacements in this process; the database's
step markers and the chain's own records make a second process (or a restart) safe too.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from sqlmodel import Session, select

from api.errors import NotFoundError
from api.monitoring import cycle as steps
from api.monitoring import measures, outbox
from api.monitoring.chain_port import MonitorChain
from api.monitoring.enrol import enrol
from api.monitoring.models import MonitoredProduct, MonitoringCycle
from api.monitoring.ports import LoggingAdapter, NoticeAdapter, NoWarnings, WarningSource
from api.orchestrator.wiring import Orchestrator
from chain.roles import Role
from chain.sender import Sender
from scoring.monitoring.triggers import DEFAULT_RULES, TriggerRule


@dataclass(frozen=True)
class MonitoringSettings:
    replacement_deadline_days: int = 14  # the financier's time to replace the assets an instruction names
    reminder_review_days: int = 30  # a weekly-reminder measure is reviewed at the next cycle
    balance_tolerance_ppm: int = 20_000  # substitutes' balance within 2% of the replaced assets'


@dataclass
class MonitoringService:
    o: Orchestrator
    rules: tuple[TriggerRule, ...] = DEFAULT_RULES
    warnings: WarningSource = field(default_factory=NoWarnings)
    notices: NoticeAdapter = field(default_factory=LoggingAdapter)
    settings: MonitoringSettings = field(default_factory=MonitoringSettings)
    _locks: defaultdict = field(default_factory=lambda: defaultdict(threading.Lock))

    @cached_property
    def chain(self) -> MonitorChain:  # lazy: an API on a deployment without PackMonitor still serves packs
        return MonitorChain(self.o.platform)

    @property
    def scorer(self) -> Sender:
        platform = self.o.platform
        return platform.sender(platform.member_with(Role.SCORER))

    def lock(self, product_id: int) -> threading.Lock:
        return self._locks[product_id]

    def product(self, product_id: int) -> MonitoredProduct:
        with Session(self.o.engine, expire_on_commit=False) as session:
            row = session.get(MonitoredProduct, product_id)
        if row is None:
            raise NotFoundError(f"product {product_id} is not under monitoring")
        return row

    def enrol(self, product_id: int, *, start_date: date | None = None, simulation: dict | None = None) -> MonitoredProduct:
        with self.lock(product_id):
            return enrol(self.o, self.chain, product_id, start_date=start_date, simulation=simulation)

    def run_cycle(self, product_id: int, *, as_of: date | None = None) -> MonitoringCycle:
        """Run (or finish) the product's next cycle; enrols the product first if it is not yet monitored."""
        with self.lock(product_id):
            enrol(self.o, self.chain, product_id)
            product = self.product(product_id)
            row = steps.open_cycle(self, product, as_of)
            try:
                return self._advance(product, row)
            except Exception as exc:
                steps.save_cycle(self, product_id, row.cycle, status="failed",
                            error={"type": type(exc).__name__, "message": str(exc)[:1000]})
                raise

    def _advance(self, product: MonitoredProduct, row: MonitoringCycle) -> MonitoringCycle:
        flow: dict[str, Any] = {
            "started": steps.score_step, "scored": steps.publish_step, "published": steps.record_step,
            "recorded": measures.review, "reviewed": measures.fire, "measured": outbox.remind_step,
        }
        row = steps.save_cycle(self, product.product_id, row.cycle, status="running")
        while row.step in flow:
            row = flow[row.step](self, product, row)
        return row

    def products(self) -> list[MonitoredProduct]:
        with Session(self.o.engine, expire_on_commit=False) as session:
            return list(session.exec(select(MonitoredProduct).order_by(MonitoredProduct.product_id)).all())
