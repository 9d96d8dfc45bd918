"""What a monitoring cycle needs from outside: IoT warnings and a way to send notices.

``WarningSource`` is the link into the IoT service (issue 7): the warnings raised on the
collaterals of given loans since a time. ``NoticeAdapter`` sends one outbox notice; a real SMS,
e-mail or webhook adapter implements it, the default one writes the notice to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import httpx

log = logging.getLogger("abs.monitoring.notices")


class WarningSource(Protocol):
    def warnings(self, loan_ids: Sequence[str], since_ms: int) -> list[dict]:
        """Warnings (``api.iot.monitoring.LoanWarning.to_dict()``) on the loans' collaterals since ``since_ms``."""
        ...


class NoWarnings:
    """No IoT service is configured: no warning ever arrives."""

    def warnings(self, loan_ids: Sequence[str], since_ms: int) -> list[dict]:
        return []


class IotDatabaseWarnings:
    """The IoT service's database, read through its monitoring hook (same host or a shared Postgres)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def warnings(self, loan_ids: Sequence[str], since_ms: int) -> list[dict]:
        from api.iot.monitoring import warnings_for_loans

        return [w.to_dict() for w in warnings_for_loans(self._engine, loan_ids, since_ms)]


class HttpIotWarnings:
    """``GET /iot/warnings?loan_id=...`` of the IoT service, a few hundred loans per request."""

    def __init__(self, base_url: str, *, page: int = 200, timeout: float = 30.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout)
        self._page = page

    def warnings(self, loan_ids: Sequence[str], since_ms: int) -> list[dict]:
        found: list[dict] = []
        ids = sorted(set(loan_ids))
        for start in range(0, len(ids), self._page):
            params = [("loan_id", loan) for loan in ids[start:start + self._page]] + [("since_ms", str(since_ms))]
            response = self._client.get("/iot/warnings", params=params)
            response.raise_for_status()
            found.extend(response.json())
        return found


class NoticeAdapter(Protocol):
    def send(self, notice: dict) -> None:
        """Deliver one notice (channel, recipient, kind, subject, body); raise to have it retried."""
        ...


class LoggingAdapter:
    """The default adapter: a notice is 'sent' by writing it to the log (and counted)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, notice: dict) -> None:
        log.info("notice %s to %s via %s: %s", notice["kind"], notice["recipient"], notice["channel"], notice["subject"])
        self.sent.append(notice)
