"""``absctl iot``: run the IoT collateral service, manage its registry, warnings and reviews, and
drive simulated devices. Every command but ``serve`` talks to a running service over HTTP
(``--url``, default ``ABS_IOT_SERVICE_URL``)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table

from api.cli.common import console, errors
from api.iot.settings import IotSettings
from api.settings import VAR_DIR

app = typer.Typer(help="IoT collateral: service, registry, warnings, reviews, simulator.", no_args_is_help=True)
collateral_app = typer.Typer(help="Pledged collaterals and their loans.", no_args_is_help=True)
device_app = typer.Typer(help="Devices: each signs with its own key, registered under a gateway.", no_args_is_help=True)
review_app = typer.Typer(help="Manual reviews of yellow and red warnings.", no_args_is_help=True)
app.add_typer(collateral_app, name="collateral")
app.add_typer(device_app, name="device")
app.add_typer(review_app, name="review")

URL = typer.Option(None, "--url", help="the IoT service; default ABS_IOT_SERVICE_URL")
TOKEN = typer.Option(None, "--token", envvar="ABS_IOT_ADMIN_TOKEN", help="admin token for writes")


def _client(url: str | None, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url or IotSettings().service_url, headers=headers, timeout=60)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        errors.print(f"[red]error:[/red] the IoT service does not answer at {client.base_url}: {exc}")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        try:
            detail = response.json()
        except ValueError:
            detail = response.text
        errors.print(f"[red]error {response.status_code}:[/red] {detail}", highlight=False)
        raise typer.Exit(1)
    return response.json()


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


@app.command()
def serve(
    host: str = typer.Option(None, help="bind address; default ABS_IOT_HOST (127.0.0.1)"),
    port: int = typer.Option(None, help="port; default ABS_IOT_PORT (8701)"),
    mqtt: bool = typer.Option(None, "--mqtt/--no-mqtt", help="subscribe to the gateways' MQTT topics"),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="log every HTTP request"),
) -> None:
    """Run the IoT service (HTTP batches, MQTT, anchoring, rules, disposal) until interrupted."""
    import logging

    import uvicorn

    from api.iot.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {key: value for key, value in {"mqtt_enabled": mqtt}.items() if value is not None}
    settings = IotSettings(**overrides)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_level="info",
                access_log=access_log)


@app.command()
def counters(url: str | None = URL) -> None:
    """Accepted events and refusals by reason."""
    with _client(url) as client:
        for name, value in _call(client, "GET", "/iot/counters").items():
            console.print(f"{name:28} {value}")


@app.command()
def proof(event_id: int, url: str | None = URL) -> None:
    """An event's Merkle proof against its window root, checked on chain."""
    with _client(url) as client:
        _print_json(_call(client, "GET", f"/iot/events/{event_id}/proof"))


@app.command()
def anchor(url: str | None = URL, token: str | None = TOKEN) -> None:
    """Anchor every pending event now."""
    with _client(url, token) as client:
        _print_json(_call(client, "POST", "/iot/anchor"))


@app.command()
def evaluate(url: str | None = URL, token: str | None = TOKEN) -> None:
    """Run every rule on every collateral now; prints the warnings raised."""
    with _client(url, token) as client:
        _print_json(_call(client, "POST", "/iot/evaluate"))


@app.command()
def warnings(
    loan: list[str] = typer.Option(None, "--loan", help="warnings of these loans' collaterals (monitoring view)"),
    since_ms: int = typer.Option(0, help="raised at or after this unix ms"),
    collateral: str | None = typer.Option(None),
    level: str | None = typer.Option(None, help="blue, yellow or red"),
    overdue: bool = typer.Option(False, help="only unanswered warnings past their deadline"),
    url: str | None = URL,
) -> None:
    """List warnings."""
    params: dict[str, Any] = {"since_ms": since_ms, "overdue": overdue}
    params.update({k: v for k, v in {"loan_id": loan, "collateral": collateral, "level": level}.items() if v})
    with _client(url) as client:
        rows = _call(client, "GET", "/iot/warnings", params=params)
    table = Table("id", "collateral", "loan", "level", "rule", "measure", "threshold", "status", "respond by (ms)")
    for w in rows:
        table.add_row(str(w["warning_id"] if loan else w["id"]), w["collateral_code"], w.get("loan_id", ""),
                      w.get("level_name") or w["level"], w["rule"], f"{w['measure']} {w['unit']}",
                      f"{w['threshold']} {w['unit']}", w["status"], str(w["respond_by_ms"]))
    console.print(table)


@collateral_app.command("add")
def collateral_add(spec_file: Path, url: str | None = URL, token: str | None = TOKEN) -> None:
    """Register a collateral from a JSON spec (see api/iot/schemas.py CollateralSpec); goes on chain."""
    with _client(url, token) as client:
        _print_json(_call(client, "POST", "/iot/collaterals", json=json.loads(spec_file.read_text())))


@collateral_app.command("list")
def collateral_list(url: str | None = URL) -> None:
    with _client(url) as client:
        rows = _call(client, "GET", "/iot/collaterals")
    table = Table("code", "kind", "industry", "profile", "financier", "description")
    for c in rows:
        table.add_row(c["code"], c["kind"], c["industry"], c["profile"], c["financier"], c["description"])
    console.print(table)


@collateral_app.command("show")
def collateral_show(code: str, url: str | None = URL) -> None:
    """A collateral with its loans, freezes, devices, warnings and residual value."""
    with _client(url) as client:
        _print_json(_call(client, "GET", f"/iot/collaterals/{code}"))


@device_app.command("add")
def device_add(code: str, address: str, gateway: str | None = typer.Option(None), label: str = "",
               url: str | None = URL, token: str | None = TOKEN) -> None:
    """Register a device (the address of its own key) on a collateral, on chain under a gateway."""
    body = {"address": address, "label": label, **({"gateway": gateway} if gateway else {})}
    with _client(url, token) as client:
        _print_json(_call(client, "POST", f"/iot/collaterals/{code}/devices", json=body))


@device_app.command("revoke")
def device_revoke(address: str, url: str | None = URL, token: str | None = TOKEN) -> None:
    """Revoke a device on chain; its later events are refused."""
    with _client(url, token) as client:
        _print_json(_call(client, "POST", f"/iot/devices/{address}/revoke"))


@review_app.command("list")
def review_list(status: str | None = typer.Option("open"), url: str | None = URL) -> None:
    with _client(url) as client:
        rows = _call(client, "GET", "/iot/reviews", params={"status": status} if status else {})
    table = Table("id", "warning", "status", "opened (ms)", "due (ms)", "outcome", "reviewer")
    for r in rows:
        table.add_row(str(r["id"]), str(r["warning_id"]), r["status"], str(r["opened_at_ms"]), str(r["due_at_ms"]),
                      r["outcome"] or "", r["reviewer"] or "")
    console.print(table)


@review_app.command("decide")
def review_decide(
    review_id: int,
    outcome: str = typer.Option(..., help="keep, restore or adjust"),
    notes: str = typer.Option(..., help="what the due diligence found"),
    reviewer: str = typer.Option(..., help="who reviewed"),
    level: str | None = typer.Option(None, help="adjust: the new level"),
    frozen_bps: int | None = typer.Option(None, help="adjust: share of undrawn credit to keep frozen"),
    url: str | None = URL,
    token: str | None = TOKEN,
) -> None:
    """Record a review's outcome on chain: restore or keep the freeze, or change the level."""
    body = {"outcome": outcome, "notes": notes, "reviewer": reviewer}
    body.update({k: v for k, v in {"level": level, "frozen_bps": frozen_bps}.items() if v is not None})
    with _client(url, token) as client:
        _print_json(_call(client, "POST", f"/iot/reviews/{review_id}/decision", json=body))


@app.command()
def simulate(
    scenario: list[str] = typer.Option(["excavators", "kettle", "textile", "reefer"], help="scenarios to run"),
    via: str = typer.Option("http", help="http or mqtt"),
    duration: float = typer.Option(10.0, help="seconds of live telemetry after the backfill"),
    rate: float = typer.Option(20.0, help="live events per second, all devices together"),
    register: bool = typer.Option(True, help="register the scenarios' collaterals and devices first"),
    prefix: str = typer.Option("SIM-", help="collateral code prefix"),
    fleet_file: Path = typer.Option(VAR_DIR / "iot-sim" / "fleet.json", help="device keys and sequences"),
    seed: int = typer.Option(7),
    url: str | None = URL,
    token: str | None = TOKEN,
) -> None:
    """Simulated devices: excavators leaving their site, a kettle over temperature for 2 h, a textile
    plant going dark (seed 000), and a healthy reefer truck."""
    from api.iot.simulator import SCENARIOS, Fleet

    unknown = sorted(set(scenario) - set(SCENARIOS))
    if unknown or via not in ("http", "mqtt"):
        raise typer.BadParameter(f"scenarios: {sorted(SCENARIOS)}; via: http or mqtt")
    rng = random.Random(seed)
    fleet = Fleet.load(fleet_file)
    now = int(time.time() * 1000)
    built = [SCENARIOS[name](fleet, prefix, now, rng) for name in scenario]
    fleet.save()
    with _client(url, token) as client:
        drive(client, built, via=via, duration=duration, rate=rate, register=register, rng=rng,
              on_progress=fleet.save)
        _print_json(_call(client, "GET", "/iot/counters"))


def drive(client: httpx.Client, scenarios: list, *, via: str, duration: float, rate: float, register: bool,
          rng: random.Random, on_progress: Any = None) -> int:
    """Register (optionally), send each scenario's backfill, then live telemetry; returns events sent."""
    from api.iot.simulator import signed_backfill

    if register:
        _register(client, scenarios)
    sender = _Sender(client, via)
    sent = 0
    try:
        for sc in scenarios:
            events = signed_backfill(sc)
            console.print(f"{sc.name}: backfill of {len(events)} events, {sender.send(events)}")
            sent += len(events)
        if on_progress:
            on_progress()
        pairs = [(sc, i) for sc in scenarios for i in range(len(sc.devices))]
        live, started = 0, time.monotonic()
        while time.monotonic() - started < duration:
            batch = []
            for _ in range(max(1, int(rate / 10))):
                sc, i = pairs[live % len(pairs)]
                type_, payload = sc.live_event(i, int(time.time() * 1000), rng)
                batch.append(sc.devices[i].sign(int(time.time() * 1000), type_, payload))
                live += 1
            sender.send(batch)
            time.sleep(0.1)
        console.print(f"live: {live} events in {time.monotonic() - started:.1f} s via {via}")
        return sent + live
    finally:
        sender.close()
        if on_progress:
            on_progress()


def _register(client: httpx.Client, scenarios: list) -> None:
    for sc in scenarios:
        for spec in sc.collaterals:
            response = client.post("/iot/collaterals", json=spec)
            if response.status_code not in (201, 409):
                _call(client, "POST", "/iot/collaterals", json=spec)  # reports the error
        for device in sc.devices:
            body = {"address": device.address, "label": f"{sc.name} sensor"}
            response = client.post(f"/iot/collaterals/{device.collateral_code}/devices", json=body)
            if response.status_code not in (201, 409):
                _call(client, "POST", f"/iot/collaterals/{device.collateral_code}/devices", json=body)


class _Sender:
    """Sends signed events over HTTP batches or to each device's gateway topic over MQTT."""

    def __init__(self, client: httpx.Client, via: str) -> None:
        self.client = client
        self.via = via
        self.mqtt = None
        self.topics: dict[str, str] = {}
        if via == "mqtt":
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion

            settings = IotSettings()
            self.prefix = settings.mqtt_topic_prefix
            self.mqtt = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            self.mqtt.connect(settings.mqtt_host, settings.mqtt_port)
            self.mqtt.loop_start()

    def send(self, events: list[dict]) -> str:
        if self.via == "http":
            body = _call(self.client, "POST", "/iot/events", json={"events": events})
            return f"{body['accepted']} accepted, {body['refused']} refused"
        from api.iot.mqtt import events_topic

        by_topic: dict[str, list[dict]] = {}
        for event in events:
            if event["device"] not in self.topics:
                gateway = _call(self.client, "GET", f"/iot/devices/{event['device']}")["gateway"]
                self.topics[event["device"]] = events_topic(self.prefix, gateway)
            by_topic.setdefault(self.topics[event["device"]], []).append(event)
        for topic, chunk in by_topic.items():
            for start in range(0, len(chunk), 100):
                self.mqtt.publish(topic, json.dumps({"events": chunk[start : start + 100]}), qos=1).wait_for_publish(30)
        return f"{len(events)} published"

    def close(self) -> None:
        if self.mqtt is not None:
            self.mqtt.loop_stop()
            self.mqtt.disconnect()
