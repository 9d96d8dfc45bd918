"""``absctl iot simulate``'s scenarios, driven into the service: seed 000's cases raise their red warnings."""

from __future__ import annotations

import random
import time
import uuid

from fastapi.testclient import TestClient

from api.cli.iot import drive
from api.iot.app import create_app
from api.iot.simulator import SCENARIOS, Fleet


def test_seed_000_scenarios_raise_their_red_warnings(make_service, tmp_path):
    service = make_service(start=False)
    prefix = f"T{uuid.uuid4().hex[:6]}-"
    rng = random.Random(3)
    fleet = Fleet.load(tmp_path / "fleet.json")
    now = int(time.time() * 1000)
    scenarios = [SCENARIOS[name](fleet, prefix, now, rng) for name in ("excavators", "kettle", "textile", "reefer")]
    with TestClient(create_app(service=service)) as client:
        sent = drive(client, scenarios, via="http", duration=0.5, rate=40, register=True, rng=rng)
        assert client.get("/iot/counters").json()["accepted"] == sent
        client.post("/iot/evaluate").raise_for_status()
        warnings = client.get("/iot/warnings", params={"level": "red"}).json()
        found = {(w["collateral_code"].removeprefix(prefix), w["rule"]) for w in warnings
                 if w["collateral_code"].startswith(prefix)}
    assert {(f"EXC-{i}", "red.geofence") for i in (1, 2, 3)} <= found
    assert ("KETTLE-1", "red.temperature") in found
    assert {(f"LOOM-{i}", "red.equipment_down") for i in (1, 2, 3, 4)} <= found
    assert not any(code.startswith("REEFER") for code, _ in found)
    fleet.save()
    assert Fleet.load(tmp_path / "fleet.json").devices["kettle"][0].seq > 200  # sequences carry over
