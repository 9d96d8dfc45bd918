"""The monitoring scheduler: a thread in the API process that runs cycles when they fall due.

Every ``ABS_MONITOR_INTERVAL_SECONDS`` it enrols each listed product whose pack this database
holds, runs each active product's next cycle once its date (start + k months) has come, and
dispatches the outbox. A failing product is logged and retried on the next tick; the others go on.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

from api.monitoring import outbox
from api.monitoring.cycle import cycle_date
from api.monitoring.service import MonitoringService
from api.services.model_registry import call_view

log = logging.getLogger("abs.monitoring.scheduler")


def listed_products(service: MonitoringService) -> list[int]:
    registry = service.o.platform.contract("ProductRegistry")
    return [pid for pid in range(1, call_view(registry.functions.productCount()) + 1)
            if int(call_view(registry.functions.product(pid))[2]) == 2]


def tick(service: MonitoringService, today: date | None = None) -> list[tuple[int, int]]:
    """One pass; returns the (product, cycle) pairs it ran."""
    today = today or date.today()
    known = {p.product_id for p in service.products()}
    for product_id in listed_products(service):
        if product_id not in known:
            try:
                service.enrol(product_id)
            except Exception as exc:  # noqa: BLE001 - e.g. a product of a pack another platform holds
                log.info("product %s not enrolled: %s", product_id, exc)
    ran = []
    for product in service.products():
        if product.status != "active" or product.simulation is not None:
            continue  # a simulated product's time is the world's, not the calendar's
        if cycle_date(product, product.cycles_done + 1) <= today:
            try:
                row = service.run_cycle(product.product_id)
                ran.append((product.product_id, row.cycle))
            except Exception:  # noqa: BLE001 - logged; retried next tick
                log.exception("cycle of product %s failed", product.product_id)
    outbox.dispatch(service, up_to=today)
    return ran


class Scheduler:
    def __init__(self, service: MonitoringService, interval_seconds: float) -> None:
        self._service = service
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="monitoring-scheduler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                tick(self._service)
            except Exception:  # noqa: BLE001 - the chain or the database may be briefly away
                log.exception("monitoring tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
