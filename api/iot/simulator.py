"""Device simulator: signed telemetry of pledged assets, including the seed-000 scenarios.

* ``excavators``: three excavators work inside their construction site's fence, then are driven
  off to another site ~5 km away (red: geofence; seed 000 §2.2's leasing case);
* ``kettle``: a chemical reaction kettle runs at 150 °C, then over its 180 °C limit for the last
  2 hours (red on the industrial profile; seed 000 §2.1's reactor case);
* ``textile``: a textile plant's looms and meter go dark: down and near-zero energy for 25 hours,
  then silence (red: equipment down; seed 000 §3.2's textile case);
* ``reefer``: a healthy cold-chain truck in range, on the move within a wide fence (no warning).

Each scenario has a backfill (past hours, as a gateway uploads what it buffered) and a live
part (``live_event``) at the current time. Device keys and sequences are kept in a fleet file so
repeated runs continue where the last one stopped.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from api.iot.signing import address_of, sign_event

HOUR_MS = 3_600_000
MIN_MS = 60_000
SITE = (312_304_000, 1_214_737_000)  # a construction site in Shanghai, degrees x 1e7
E7_PER_M = 90  # ~1e-7 degree of latitude per 1.1 cm: 90 units ~ 1 m


@dataclass
class SimDevice:
    key: bytes
    collateral_code: str
    seq: int = 0

    @property
    def address(self) -> str:
        return address_of(self.key)

    def sign(self, ts: int, type_: str, payload: dict) -> dict:
        self.seq += 1
        return sign_event(self.key, {"device": self.address, "seq": self.seq, "ts": ts, "type": type_,
                                     "payload": payload})


@dataclass
class Scenario:
    name: str
    collaterals: list[dict]
    devices: list[SimDevice]
    backfill: list[tuple[int, int, str, dict]]  # (device index, ts, type, payload)
    live_event: Callable[[int, int, random.Random], tuple[str, dict]]  # (device index, now) -> (type, payload)


@dataclass
class Fleet:
    """Device keys and next sequences per scenario, in a JSON file (test keys: never real ones)."""

    path: Path
    devices: dict[str, list[SimDevice]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Fleet:
        fleet = cls(Path(path))
        if fleet.path.exists():
            data = json.loads(fleet.path.read_text())
            fleet.devices = {name: [SimDevice(bytes.fromhex(d["key"]), d["collateral"], d["seq"]) for d in devices]
                             for name, devices in data.items()}
        return fleet

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {name: [{"key": d.key.hex(), "collateral": d.collateral_code, "seq": d.seq} for d in devices]
                for name, devices in self.devices.items()}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.path)

    def devices_for(self, scenario: str, codes: list[str]) -> list[SimDevice]:
        if scenario not in self.devices:
            self.devices[scenario] = [SimDevice(os.urandom(32), code) for code in codes]
        return self.devices[scenario]


def _loan(code: str, borrower: str, line: int, drawn: int) -> list[dict]:
    return [{"loan_id": f"{code}-LOAN", "borrower_id": borrower, "credit_line_minor": line, "drawn_minor": drawn}]


def _offset(point: tuple[int, int], north_m: float, east_m: float) -> dict:
    lat = point[0] + round(north_m * E7_PER_M)
    lon = point[1] + round(east_m * E7_PER_M / math.cos(math.radians(point[0] / 1e7)))
    return {"lat_e7": lat, "lon_e7": lon}


def excavators(fleet: Fleet, prefix: str, now: int, rng: random.Random) -> Scenario:
    codes = [f"{prefix}EXC-{i}" for i in (1, 2, 3)]
    square = [[SITE[0] + dn * 300 * E7_PER_M, SITE[1] + de * 300 * E7_PER_M] for dn, de in
              ((-1, -1), (-1, 1), (1, 1), (1, -1))]
    collaterals = [{"code": code, "kind": "vehicle", "industry": "construction", "description": "pledged excavator",
                    "fence": {"polygon": square}, "loans": _loan(code, "leasing-client-7", 700_000_00, 33_000_00),
                    "valuation": {"cost_minor": 1_200_000_00, "acquired_on": "2022-03-01", "meter_hours": 4_200}}
                   for code in codes]
    devices = fleet.devices_for("excavators", codes)
    backfill = []
    for minute in range(120, 0, -1):  # two hours of work on site, one fix a minute
        for i in range(3):
            backfill.append((i, now - minute * MIN_MS, "location", _offset(SITE, rng.uniform(-200, 200), rng.uniform(-200, 200))))
        if minute % 10 == 0:
            for i in range(3):
                backfill.append((i, now - minute * MIN_MS, "status", {"state": "running"}))
    for step in range(1, 11):  # then, in the last ten minutes, off along the road to another site
        for i in range(3):
            backfill.append((i, now - (10 - step) * MIN_MS + i, "location", _offset(SITE, step * 500.0, step * 40.0)))

    def live(i: int, t: int, r: random.Random) -> tuple[str, dict]:
        return "location", _offset(SITE, 5_000 + r.uniform(-20, 20), 400 + r.uniform(-20, 20))

    return Scenario("excavators", collaterals, devices, backfill, live)


def kettle(fleet: Fleet, prefix: str, now: int, rng: random.Random) -> Scenario:
    code = f"{prefix}KETTLE-1"
    collateral = {"code": code, "kind": "equipment", "industry": "manufacturing", "stationary": True,
                  "description": "chemical reaction kettle", "home": {"lat_e7": SITE[0] + 90_000, "lon_e7": SITE[1]},
                  "temperature_range": {"min_milli_c": 60_000, "max_milli_c": 180_000},
                  "loans": _loan(code, "chem-works-3", 5_000_000_00, 3_000_000_00)}
    devices = fleet.devices_for("kettle", [code])
    backfill = []
    for minute in range(240, -1, -1):  # four hours of readings; over the limit for the last two
        celsius = 195 if minute <= 120 else 150
        backfill.append((0, now - minute * MIN_MS, "temperature", {"milli_c": celsius * 1_000 + rng.randint(-800, 800)}))

    def live(i: int, t: int, r: random.Random) -> tuple[str, dict]:
        return "temperature", {"milli_c": 196_000 + r.randint(-800, 800)}

    return Scenario("kettle", [collateral], devices, backfill, live)


def textile(fleet: Fleet, prefix: str, now: int, rng: random.Random) -> Scenario:
    codes = [f"{prefix}LOOM-{i}" for i in range(1, 5)]
    collaterals = [{"code": code, "kind": "equipment", "industry": "manufacturing", "stationary": True,
                    "description": "textile loom", "home": {"lat_e7": SITE[0] - 200_000, "lon_e7": SITE[1]},
                    "loans": _loan(code, "textile-mill-12", 900_000_00, 600_000_00),
                    "valuation": {"cost_minor": 400_000_00, "acquired_on": "2019-06-01", "meter_hours": 21_000,
                                  "failures": 3}} for code in codes]
    devices = fleet.devices_for("textile", codes)
    backfill = []
    for hour in range(30, 0, -1):
        dark = hour <= 25
        for i in range(4):
            ts = now - hour * HOUR_MS
            backfill.append((i, ts, "status", {"state": "down" if dark else "running"}))
            backfill.append((i, ts + 1, "energy", {"wh": rng.randint(0, 20) if dark else rng.randint(14_000, 16_000)}))

    def live(i: int, t: int, r: random.Random) -> tuple[str, dict]:
        return "status", {"state": "down"}

    return Scenario("textile", collaterals, devices, backfill, live)


def reefer(fleet: Fleet, prefix: str, now: int, rng: random.Random) -> Scenario:
    code = f"{prefix}REEFER-1"
    collateral = {"code": code, "kind": "cold_chain", "industry": "logistics", "description": "refrigerated truck",
                  "fence": {"circle": {"lat_e7": SITE[0], "lon_e7": SITE[1], "radius_m": 50_000}},
                  "temperature_range": {"min_milli_c": 2_000, "max_milli_c": 8_000},
                  "loans": _loan(code, "cold-logistics-5", 300_000_00, 100_000_00)}
    devices = fleet.devices_for("reefer", [code])
    backfill = [(0, now - minute * MIN_MS, "temperature", {"milli_c": rng.randint(3_500, 5_500)})
                for minute in range(60, 0, -1)]

    def live(i: int, t: int, r: random.Random) -> tuple[str, dict]:
        if r.random() < 0.5:
            return "temperature", {"milli_c": r.randint(3_500, 5_500)}
        return "location", _offset(SITE, r.uniform(-10_000, 10_000), r.uniform(-10_000, 10_000))

    return Scenario("reefer", [collateral], devices, backfill, live)


SCENARIOS: dict[str, Callable[[Fleet, str, int, random.Random], Scenario]] = {
    "excavators": excavators, "kettle": kettle, "textile": textile, "reefer": reefer,
}


def signed_backfill(scenario: Scenario) -> list[dict]:
    """The backfill as signed events, in time order per device (sequences increase with time)."""
    ordered = sorted(scenario.backfill, key=lambda item: (item[1], item[0]))
    return [scenario.devices[i].sign(ts, type_, payload) for i, ts, type_, payload in ordered]
