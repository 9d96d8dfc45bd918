"""``build_monitoring(orchestrator)``: the monitoring service with its real adapters.

Trigger rules come from ``ABS_MONITOR_RULES_PATH`` (a JSON list, see
``scoring.monitoring.triggers.rules_from_config``) or the patent's defaults; IoT warnings from
the IoT service's database (``ABS_IOT_DATABASE_URL``) or API (``ABS_IOT_URL``); simulated
worlds publish through the bureau's service when it runs in this process
(``ABS_BUREAU_URL=inprocess``). Tests pass fakes for any of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from api.errors import ConflictError, InvalidInputError
from api.monitoring.ports import HttpIotWarnings, IotDatabaseWarnings, LoggingAdapter, NoWarnings
from api.monitoring.service import MonitoringService, MonitoringSettings
from api.monitoring.simulation import InProcessBureauPublisher, RecordPublisher, WorldStore
from api.orchestrator.wiring import IN_PROCESS, Orchestrator
from scoring.monitoring.triggers import DEFAULT_RULES, TriggerConfigError, rules_from_config


@dataclass
class MonitoringRuntime:
    service: MonitoringService
    worlds: WorldStore
    publisher: RecordPublisher | None

    def require_publisher(self) -> RecordPublisher:
        if self.publisher is None:
            raise ConflictError("simulated cycles publish through the bureau's own service: run the API with "
                                "ABS_BUREAU_URL=inprocess")
        return self.publisher


def _rules(o: Orchestrator) -> tuple:
    path = o.settings.monitor_rules_path
    if path is None:
        return DEFAULT_RULES
    try:
        return rules_from_config(json.loads(path.read_text()))
    except (OSError, ValueError, TriggerConfigError) as exc:
        raise InvalidInputError(f"trigger rules in {path}: {exc}") from None


def _warnings(o: Orchestrator) -> Any:
    if o.settings.iot_database_url:
        from api.db.engine import make_engine

        return IotDatabaseWarnings(make_engine(o.settings.iot_database_url))
    if o.settings.iot_url:
        return HttpIotWarnings(o.settings.iot_url)
    return NoWarnings()


def build_monitoring(o: Orchestrator, *, warnings: Any = None, notices: Any = None,
                     publisher: RecordPublisher | None = None, rules: tuple | None = None) -> MonitoringRuntime:
    settings = MonitoringSettings(replacement_deadline_days=o.settings.replacement_deadline_days,
                                  balance_tolerance_ppm=o.settings.replacement_balance_tolerance_ppm)
    service = MonitoringService(o, rules=rules or _rules(o), warnings=warnings or _warnings(o),
                                notices=notices or LoggingAdapter(), settings=settings)
    if publisher is None and o.settings.bureau_url == IN_PROCESS:
        from api.bureau.bootstrap import build_service

        publisher = InProcessBureauPublisher(build_service(platform=o.platform))
    return MonitoringRuntime(service, WorldStore(o.settings.var_dir / "monitoring"), publisher)
