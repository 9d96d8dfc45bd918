"""Each collateral's recent telemetry in memory, so rules run without a query per evaluation.

A collateral's series are loaded from the database on its first evaluation after a start
(each series as far back as its rules look, plus the newest status sample however old, which
is what tells a device that went dark), then fed with every accepted event. Events the load
already saw (id at or below the load's high-water mark) are not added twice.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.iot.ingest import AcceptedEvent
from api.iot.models import DeviceEvent
from api.iot.payloads import to_sample
from scoring.iot.telemetry import DAY_MS, Telemetry
from scoring.iot.thresholds import Thresholds

SERIES_TYPES = {"status": "status", "temperature": "temperature", "fixes": "location", "utilisation": "utilisation",
                "orders": "orders", "energy": "energy", "footfall": "footfall"}


def series_lookback_ms(th: Thresholds) -> dict[str, int]:
    return {
        "status": th.down_ms + th.sample_hold_ms + DAY_MS,
        "temperature": th.temperature_lookback_ms + th.sample_hold_ms,
        "fixes": th.location_lookback_ms,
        "utilisation": (th.utilisation_days + th.utilisation_baseline_days + 1) * DAY_MS,
        "orders": th.order_lookback_ms,
        "energy": (th.energy_days + 1) * DAY_MS,
        "footfall": 2 * th.footfall_period_ms,
    }


class TelemetryCache:
    def __init__(self, engine: Engine, thresholds_of: Callable[[str], Thresholds]) -> None:
        self.engine = engine
        self.thresholds_of = thresholds_of
        self._series: dict[str, dict[str, list]] = {}
        self._high_water: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, events: Iterable[AcceptedEvent]) -> None:
        with self._lock:
            for e in events:
                series = self._series.get(e.collateral_code)
                if series is None or e.id <= self._high_water[e.collateral_code]:
                    continue  # not loaded yet (the load will read it), or already read by the load
                name, sample = to_sample(e.type, e.ts_ms, e.payload)
                _insert(series[name], sample)

    def telemetry(self, code: str, now_ms: int) -> Telemetry:
        with self._lock:
            if code not in self._series:
                self._load(code, now_ms)
            series = self._series[code]
            lookback = series_lookback_ms(self.thresholds_of(code))
            for name, samples in series.items():
                cut = bisect.bisect_left(samples, now_ms - lookback[name], key=lambda s: s.ts_ms)
                if name == "status":
                    cut = min(cut, len(samples) - 1)  # the newest status stays, however old
                if cut > 0:
                    del samples[:cut]
            return Telemetry(**{name: tuple(samples) for name, samples in series.items()})

    def forget(self, code: str) -> None:
        with self._lock:
            self._series.pop(code, None)

    def _load(self, code: str, now_ms: int) -> None:
        lookback = series_lookback_ms(self.thresholds_of(code))
        series: dict[str, list] = {name: [] for name in SERIES_TYPES}
        with Session(self.engine) as session:
            high_water = session.exec(select(func.max(DeviceEvent.id))).one() or 0
            for name, type_ in SERIES_TYPES.items():
                rows = session.exec(
                    select(DeviceEvent.ts_ms, DeviceEvent.payload)
                    .where(DeviceEvent.collateral_code == code, DeviceEvent.type == type_,
                           DeviceEvent.ts_ms >= now_ms - lookback[name], DeviceEvent.id <= high_water)
                    .order_by(DeviceEvent.ts_ms)
                ).all()
                if name == "status" and not rows:
                    rows = session.exec(
                        select(DeviceEvent.ts_ms, DeviceEvent.payload)
                        .where(DeviceEvent.collateral_code == code, DeviceEvent.type == type_,
                               DeviceEvent.id <= high_water)
                        .order_by(DeviceEvent.ts_ms.desc()).limit(1)
                    ).all()
                series[name] = [to_sample(type_, ts, payload)[1] for ts, payload in rows]
        self._series[code] = series
        self._high_water[code] = high_water


def _insert(samples: list, sample: object) -> None:
    if not samples or samples[-1].ts_ms <= sample.ts_ms:
        samples.append(sample)
    else:
        bisect.insort(samples, sample, key=lambda s: s.ts_ms)
