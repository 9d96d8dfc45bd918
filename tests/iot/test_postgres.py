"""The IoT service on PostgreSQL (a fresh schema of the shared ``test`` database, dropped after):
migrations, raw-SQL ingestion, counters, anchoring with proofs, a red freeze and the monitoring hook."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.iot.app import create_app
from api.iot.monitoring import warnings_for_loans
from iot_support import SITE, register, signed

psycopg = pytest.importorskip("psycopg")
ADMIN = "host=127.0.0.1 dbname=test user=postgres"
AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}
pytestmark = pytest.mark.integration


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"iot_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=2) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:  # scripts/test starts PostgreSQL first: a failure, not a skip
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_service_runs_on_postgres(make_service, device_key, postgres_url):
    service = make_service(start=False, database_url=postgres_url)
    key = device_key()
    code = register(service, key)
    with TestClient(create_app(service=service)) as client:
        body = client.post("/iot/events", json=[signed(key, i, "temperature", {"milli_c": 4_000}) for i in (1, 2, 3)])
        assert body.json()["accepted"] == 3
        assert client.post("/iot/events", json=[signed(key, 2, "temperature", {"milli_c": 1})]).json()["refused"] == 1
        client.post("/iot/events", json=[signed(key, 4, "location", AWAY)]).raise_for_status()
        deadline = time.monotonic() + 20
        while (service.anchorer.pending_count() or not warnings_for_loans(service.engine, [f"{code}-L1"], 0)) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        counters = client.get("/iot/counters").json()
        assert counters["accepted"] == 4 and counters["refused.replayed"] == 1
        assert client.get(f"/iot/events/{body.json()['accepted_ids'][0]}/proof").json()["verified_on_chain"] is True
        (warning,) = warnings_for_loans(service.engine, [f"{code}-L1"], 0)
        assert warning.rule == "red.geofence"
