"""When to run the rules on which collateral, and raising what they find.

Accepted events feed the telemetry cache and mark their collateral for evaluation: at most
every ``evaluation_interval_s`` normally, but at once (``urgent_gap_s``) when an event is itself
anomalous (a fix outside the fence or away from home, a temperature out of range, a device down
or in fault), so a red event reaches its freeze within a second. Every ``sweep_interval_s`` all
collaterals are evaluated, because some findings come from the clock alone (a device gone dark).
A rule with an open warning is not raised again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from api.iot.disposal import Disposal
from api.iot.ingest import AcceptedEvent
from api.iot.models import CollateralWarning
from api.iot.records import Clock, now_ms
from api.iot.registry import Registry
from api.iot.telemetry_cache import TelemetryCache
from scoring.iot.geo import distance_mm, outside_mm
from scoring.iot.rules import evaluate
from scoring.iot.telemetry import DOWN_STATES, Finding


class Evaluator:
    def __init__(self, registry: Registry, cache: TelemetryCache, disposal: Disposal, *, clock: Clock,
                 interval_s: float, urgent_gap_s: float, sweep_interval_s: float) -> None:
        self.registry = registry
        self.cache = cache
        self.disposal = disposal
        self.clock = clock
        self.interval_ms = int(interval_s * 1000)
        self.urgent_gap_ms = int(urgent_gap_s * 1000)
        self.sweep_ms = int(sweep_interval_s * 1000)
        self._dirty: set[str] = set()
        self._urgent: set[str] = set()
        self._last: dict[str, int] = {}
        self._last_sweep = 0
        self._lock = threading.Lock()
        self.wake = threading.Event()

    def touch(self, events: Iterable[AcceptedEvent]) -> None:
        events = list(events)
        self.cache.add(events)
        with self._lock:
            for e in events:
                self._dirty.add(e.collateral_code)
                if e.collateral_code not in self._urgent and self._anomalous(e):
                    self._urgent.add(e.collateral_code)
                    self.wake.set()

    def _anomalous(self, e: AcceptedEvent) -> bool:
        rules = self.registry.rules.get(e.collateral_code)
        if rules is None:
            return False
        p = rules.profile
        if e.type == "status":
            return e.payload["state"] in DOWN_STATES
        if e.type == "temperature" and p.temperature_range is not None:
            return not p.temperature_range[0] <= e.payload["milli_c"] <= p.temperature_range[1]
        if e.type == "location":
            lat, lon = e.payload["lat_e7"], e.payload["lon_e7"]
            if p.fence is not None and outside_mm(p.fence, lat, lon) > 0:
                return True
            home = p.home or (p.fence.centre if p.fence is not None else None)
            return p.stationary and home is not None and \
                distance_mm(home[0], home[1], lat, lon) >= rules.thresholds.stationary_move_m * 1000
        return False

    def due(self, at_ms: int) -> list[str]:
        with self._lock:
            if at_ms - self._last_sweep >= self.sweep_ms:
                self._last_sweep = at_ms
                chosen = set(self.registry.rules)
            else:
                chosen = {c for c in self._urgent if at_ms - self._last.get(c, 0) >= self.urgent_gap_ms}
                chosen |= {c for c in self._dirty if at_ms - self._last.get(c, 0) >= self.interval_ms}
            self._urgent -= chosen
            self._dirty -= chosen
            for code in chosen:
                self._last[code] = at_ms
        return sorted(chosen)

    def run_once(self, *, everything: bool = False) -> list[CollateralWarning]:
        at = now_ms(self.clock)
        codes = sorted(self.registry.rules) if everything else self.due(at)
        raised = []
        for code in codes:
            for finding in self.findings(code, at):
                warning = self.disposal.raise_warning(code, finding)
                if warning is not None:
                    raised.append(warning)
        return raised

    def findings(self, code: str, at_ms: int) -> list[Finding]:
        """What the rules find on ``code`` now that has no open warning yet."""
        rules = self.registry.rules.get(code)
        if rules is None:
            return []
        telemetry = self.cache.telemetry(code, at_ms)
        found = evaluate(telemetry, rules.profile, rules.thresholds, at_ms, self.disposal.not_before(code))
        return [f for f in found if not self.disposal.is_open(code, f.rule)]
