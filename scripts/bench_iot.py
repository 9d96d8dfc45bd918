#!/usr/bin/env python
"""IoT ingestion, anchoring and red-to-freeze latency, against a Hardhat node this script runs.

The script starts a Hardhat node (interval mining, blocks every ``--interval-ms``), deploys the
platform with fresh member keys, starts the IoT service (``absctl iot serve``, with MQTT) in its
own process, registers collaterals and devices through the service, pre-signs every event
(signing is the devices' work, not the service's), then measures. Prints JSON lines
{"bench": "iot", "metric": ..., "value": ..., "unit": ...}:

- iot_events_per_s_http: signed events accepted per second over HTTP batches (``--batch`` each,
  ``--threads`` gateways in parallel; each device's events stay in order);
- iot_events_per_s_mqtt: the same over MQTT (QoS 1, ``--per-message`` events a message), until the
  service has persisted and acknowledged them all;
- iot_events_per_s: the lower of the two (the rate both paths sustain);
- iot_anchor_p50_seconds / iot_anchor_p99_seconds: from an event's acceptance to its window's
  root mined on chain, over every event of both runs;
- iot_red_to_freeze_seconds (median) and iot_red_to_freeze_max_seconds: from posting a geofence
  breach to the loan's freeze read back from the chain, over ``--red-trials`` collaterals;
- iot_events_per_s_one_tx_per_event: the peer, measured in the same run on the same node: every
  event anchored by its own transaction (the gateway's ``anchorEvents`` with a count of 1, bulk
  sent: signing overlapped with sending, JSON-RPC batches);
- iot_anchor_tx_per_1000_events: transactions the windows used per 1,000 events.

Every event is checked accepted and anchored before the figures are printed.

Usage: scripts/bench_iot.py [--http-events N] [--mqtt-events N] [--peer-events N] [--interval-ms MS]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from eth_account import Account  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from api.iot.mqtt import events_topic  # noqa: E402
from api.iot.signing import address_of, sign_event  # noqa: E402
from chain.backends import connect  # noqa: E402
from chain.contracts import PlatformContracts  # noqa: E402
from chain.deploy import Seat, deploy_platform, seat_consortium  # noqa: E402
from chain.keys import env_var_for  # noqa: E402
from chain.leaves import asset_id  # noqa: E402
from chain.node import HardhatNode, free_port  # noqa: E402
from chain.roles import Role  # noqa: E402
from chain.sender import Sender  # noqa: E402

MEMBERS = {"gov-a": (Role.GOVERNOR,), "gov-b": (Role.GOVERNOR,), "gov-c": (Role.GOVERNOR,),
           "financier": (Role.FINANCIER,), "scorer": (Role.SCORER,), "iot-gateway": (Role.IOT_GATEWAY,),
           "auditor": (Role.AUDITOR,)}
SITE = {"lat_e7": 312_304_000, "lon_e7": 1_214_737_000}
AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}
ANCHOR_GAS = 200_000


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "iot", "metric": metric, "value": round(value, 3), "unit": unit}), flush=True)


def note(message: str) -> None:
    print(f"[bench iot] {message}", file=sys.stderr, flush=True)


def deploy(url: str, manifest_path: Path) -> tuple[dict[str, Account], PlatformContracts]:
    w3 = connect(url)
    accounts = {name: Account.create() for name in ["deployer", *MEMBERS]}
    deployer = Sender(w3, accounts["deployer"], name="deployer")
    manifest = deploy_platform(w3, deployer)
    seats = [Seat(name, accounts[name].address, roles) for name, roles in MEMBERS.items()]
    seat_consortium(manifest, deployer, seats, 2)
    manifest.save(manifest_path)
    return accounts, PlatformContracts(w3, manifest)


def start_service(work: Path, node_url: str, accounts: dict, run: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    database = work / "iot.db"
    env = {**os.environ, "ABS_CHAIN_URL": node_url, "ABS_MANIFEST_PATH": str(work / "deployment.json"),
           "ABS_IOT_DATABASE_URL": f"sqlite:///{database}", "ABS_IOT_MQTT_ENABLED": "true",
           "ABS_IOT_MQTT_TOPIC_PREFIX": f"abs-bench/{run}", "ABS_IOT_MQTT_CLIENT_ID": f"abs-bench-{run}",
           "ABS_IOT_MQTT_SESSION_EXPIRY_S": "60", "ABS_IOT_URGENT_GAP_S": "0",
           "ABS_IOT_EVALUATION_INTERVAL_S": "30", "PYTHONPATH": str(ROOT)}
    env.update({env_var_for(name): account.key.hex() for name, account in accounts.items() if name in MEMBERS})
    log = open(work / "service.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "iot", "serve", "--port", str(port), "--mqtt", "--no-access-log"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the IoT service exited:\n{(work / 'service.log').read_text()[-3000:]}")
        try:
            health = httpx.get(f"{url}/iot/health", timeout=1).json()
            if health.get("mqtt"):
                return process, url, database
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the IoT service did not come up within 120 s")


def stop_service(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def register(client: httpx.Client, code: str, keys: list[bytes], **extra) -> None:
    spec = {"code": code, "kind": "cold_chain", "industry": "logistics",
            "temperature_range": {"min_milli_c": 2_000, "max_milli_c": 8_000},
            "loans": [{"loan_id": f"{code}-L1", "borrower_id": f"{code}-B", "credit_line_minor": 1_000_000_00,
                       "drawn_minor": 250_000_00}], **extra}
    client.post("/iot/collaterals", json=spec).raise_for_status()
    for key in keys:
        client.post(f"/iot/collaterals/{code}/devices", json={"address": address_of(key)}).raise_for_status()


def presign(keys: list[bytes], per_device: int, first_seq: int) -> list[list[dict]]:
    """Per device, ``per_device`` in-range temperature readings, in sequence order."""
    now = int(time.time() * 1000)
    return [[sign_event(key, {"device": address_of(key), "seq": first_seq + i, "ts": now + i, "type": "temperature",
                              "payload": {"milli_c": 4_000 + i % 500}}) for i in range(per_device)] for key in keys]


def accepted(client: httpx.Client) -> int:
    return client.get("/iot/counters").json()["accepted"]


def http_rate(url: str, streams: list[list[dict]], batch: int, threads: int) -> float:
    """Each thread owns a share of the devices and posts their events in order."""
    shares = [streams[t::threads] for t in range(threads)]
    failures: list[str] = []

    def post_share(share: list[list[dict]]) -> None:
        events = [s[i] for i in range(max(len(s) for s in share)) for s in share if i < len(s)]
        try:
            with httpx.Client(base_url=url, timeout=120) as client:
                for start in range(0, len(events), batch):
                    body = client.post("/iot/events", json={"events": events[start : start + batch]}).json()
                    if body["refused"]:
                        failures.append(str(body["refusals"][:3]))
        except Exception as exc:  # reported below, on the main thread
            failures.append(repr(exc))

    workers = [threading.Thread(target=post_share, args=(share,)) for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"events refused over HTTP: {failures[:3]}")
    return sum(len(s) for s in streams) / elapsed


def mqtt_rate(client: httpx.Client, topic: str, streams: list[list[dict]], per_message: int, run: str) -> float:
    events = [s[i] for i in range(max(len(s) for s in streams)) for s in streams if i < len(s)]
    messages = [json.dumps({"events": events[i : i + per_message]}) for i in range(0, len(events), per_message)]
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{run}", protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(200)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    target = accepted(client) + len(events)
    started = time.perf_counter()
    infos = [publisher.publish(topic, message, qos=1) for message in messages]
    for info in infos:
        info.wait_for_publish(120)
    while accepted(client) < target:
        if time.perf_counter() - started > 300:
            raise SystemExit(f"MQTT: only {accepted(client)} of {target} accepted after 300 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    publisher.loop_stop()
    publisher.disconnect()
    return len(events) / elapsed


def wait_anchored(client: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/iot/health").json()["pending_events"]:
        if time.monotonic() > deadline:
            raise SystemExit("events still unanchored after 120 s")
        time.sleep(0.1)


def anchor_latencies(database: Path) -> tuple[list[float], int, int]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT w.anchored_at_ms - e.received_at_ms FROM iot_event e JOIN iot_window w "
                          "ON w.id = e.window_id WHERE w.status = 'anchored'").fetchall()
        windows = db.execute("SELECT count(*) FROM iot_window").fetchone()[0]
        parts = db.execute("SELECT w.created_at_ms - e.received_at_ms, w.anchored_at_ms - w.created_at_ms "
                           "FROM iot_event e JOIN iot_window w ON w.id = e.window_id").fetchall()
        if parts:
            waits, sends = sorted(p[0] for p in parts), sorted(p[1] for p in parts)
            p99 = int(0.99 * (len(parts) - 1))
            note(f"anchoring p99: {waits[p99] / 1000:.3f} s waiting for the window to close, "
                 f"{sends[p99] / 1000:.3f} s from closing to the root mined; {windows} windows")
        events = db.execute("SELECT count(*) FROM iot_event").fetchone()[0]
    return sorted(r[0] / 1000 for r in rows), windows, events


def red_to_freeze(client: httpx.Client, contracts: PlatformContracts, trials: int) -> list[float]:
    registry = contracts["CollateralRegistry"]
    seconds = []
    for trial in range(trials):
        key = os.urandom(32)
        code = f"RED-{uuid.uuid4().hex[:8]}"
        register(client, code, [key], kind="vehicle", industry="construction",
                 fence={"circle": {**SITE, "radius_m": 500}}, temperature_range=None)
        breach = sign_event(key, {"device": address_of(key), "seq": 1, "ts": int(time.time() * 1000),
                                  "type": "location", "payload": AWAY})
        started = time.perf_counter()
        client.post("/iot/events", json={"events": [breach]}).raise_for_status()
        while registry.functions.freezeOf(asset_id(f"{code}-L1")).call()[1] != 10_000:
            if time.perf_counter() - started > 30:
                raise SystemExit(f"no freeze for {code} after 30 s")
            time.sleep(0.005)
        seconds.append(time.perf_counter() - started)
        note(f"red -> freeze trial {trial + 1}: {seconds[-1]:.3f} s")
    return seconds


def peer_rate(contracts: PlatformContracts, gateway: Account, count: int) -> float:
    """One transaction per event: each event's hash anchored alone by the gateway."""
    registry = contracts["CollateralRegistry"]
    sender = Sender(contracts.w3, gateway, name="iot-gateway-peer")
    now = int(time.time() * 1000)
    calls = [{"to": registry.address, "data": registry.encode_abi("anchorEvents", [os.urandom(32), 1, now + i, now + i])}
             for i in range(count)]
    started = time.perf_counter()
    confirmations = sender.send_bulk(calls, gas=ANCHOR_GAS)
    elapsed = time.perf_counter() - started
    if len(confirmations) != count:
        raise SystemExit("the peer run lost transactions")
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-events", type=int, default=30_000)
    parser.add_argument("--mqtt-events", type=int, default=30_000)
    parser.add_argument("--peer-events", type=int, default=2_000)
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1_000, help="events per HTTP batch")
    parser.add_argument("--threads", type=int, default=3, help="HTTP gateways posting in parallel")
    parser.add_argument("--per-message", type=int, default=100, help="events per MQTT message")
    parser.add_argument("--red-trials", type=int, default=5)
    parser.add_argument("--interval-ms", type=int, default=100, help="block interval of the Hardhat node")
    options = parser.parse_args()
    run = uuid.uuid4().hex[:8]

    with tempfile.TemporaryDirectory(prefix="bench-iot-") as tmp:
        work = Path(tmp)
        node = HardhatNode(free_port(), var_dir=work, interval_ms=options.interval_ms)
        node.start()
        service = None
        try:
            accounts, contracts = deploy(node.url, work / "deployment.json")
            service, url, database = start_service(work, node.url, accounts, run)
            note(f"node {node.url} (blocks every {options.interval_ms} ms), service {url}")
            keys = [os.urandom(32) for _ in range(options.devices)]
            with httpx.Client(base_url=url, timeout=120) as client:
                for c in range(0, len(keys), 6):
                    register(client, f"BENCH-{run}-{c // 6}", keys[c : c + 6])
                per_device = options.http_events // len(keys)
                note(f"pre-signing {per_device * len(keys)} + {options.mqtt_events} events")
                http_streams = presign(keys, per_device, 1)
                mqtt_streams = presign(keys, options.mqtt_events // len(keys), per_device + 1)

                http = http_rate(url, http_streams, options.batch, options.threads)
                emit("iot_events_per_s_http", http, "ev/s")
                gateway = client.get(f"/iot/devices/{address_of(keys[0])}").json()["gateway"]
                mqtt_ = mqtt_rate(client, events_topic(f"abs-bench/{run}", gateway), mqtt_streams,
                                  options.per_message, run)
                emit("iot_events_per_s_mqtt", mqtt_, "ev/s")
                emit("iot_events_per_s", min(http, mqtt_), "ev/s")

                wait_anchored(client)
                latencies, windows, events = anchor_latencies(database)
                expected = per_device * len(keys) + options.mqtt_events // len(keys) * len(keys)
                if len(latencies) != events or events != expected:
                    raise SystemExit(f"{events} events stored, {len(latencies)} anchored, {expected} sent")
                emit("iot_anchor_p50_seconds", statistics.median(latencies), "s")
                emit("iot_anchor_p99_seconds", latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], "s")
                emit("iot_anchor_tx_per_1000_events", 1000 * windows / events, "tx")

                trials = red_to_freeze(client, contracts, options.red_trials)
                emit("iot_red_to_freeze_seconds", statistics.median(trials), "s")
                emit("iot_red_to_freeze_max_seconds", max(trials), "s")
                wait_anchored(client)
            stop_service(service)  # the peer signs as the same gateway: the service must be idle
            service = None
            emit("iot_events_per_s_one_tx_per_event", peer_rate(contracts, accounts["iot-gateway"],
                                                                 options.peer_events), "ev/s")
        finally:
            if service is not None:
                stop_service(service)
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
