"""MQTT ingestion through Mosquitto: a crash in the middle of a stream loses no accepted event.

The service subscribes with a persistent session (MQTT 5, clean_start False, session expiry)
and acknowledges a message only after its events are in the database. The test crashes it
mid-stream (the connection drops, nothing more is acknowledged, nothing is flushed), keeps
publishing while it is down, then starts a new service on the same database and client id.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, func, select

from api.iot.models import DeviceEvent, EventWindow
from api.iot.mqtt import events_topic
from api.iot.records import read_counters
from iot_support import register, signed

BROKER = ("127.0.0.1", 1883)


def broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def broker_is_running() -> None:
    """The restart guarantee must be shown, not skipped: scripts/test starts Mosquitto first."""
    assert broker_up(), "Mosquitto is not running on 127.0.0.1:1883 (start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf)"


def publisher(client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(*BROKER)
    client.loop_start()
    return client


def accepted_ids(service) -> set[int]:
    with Session(service.engine) as session:
        return set(session.exec(select(DeviceEvent.id)).all())


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_a_crash_mid_stream_loses_no_accepted_event(make_service, device_key, consortium):
    run = uuid.uuid4().hex[:10]
    options = {"mqtt_enabled": True, "mqtt_topic_prefix": f"abs-test/{run}", "mqtt_client_id": f"iot-test-{run}",
               "window_seconds": 0.2}
    first = make_service(**options)
    keys = [device_key() for _ in range(4)]
    for key in keys:
        register(first, key)
    wait_until(first.mqtt.connected.is_set, 10)
    topic = events_topic(options["mqtt_topic_prefix"], first.gateway_members()[0])
    messages = [[signed(key, m * 10 + i + 1, "temperature", {"milli_c": 4_000 + i}) for i in range(10)]
                for m in range(25) for key in keys]  # 100 messages, 1,000 events
    out = publisher(f"pub-{run}")

    def publish_all() -> None:
        for events in messages:
            out.publish(topic, json.dumps({"events": events}), qos=1).wait_for_publish(10)
            time.sleep(0.01)

    stream = threading.Thread(target=publish_all)
    stream.start()
    wait_until(lambda: len(accepted_ids(first)) >= 200)
    first.stop(graceful=False)  # crash mid-stream
    before = accepted_ids(first)
    assert 200 <= len(before) < 1_000

    time.sleep(0.3)  # the stream goes on while the service is down; the broker queues it
    second = make_service(**options)
    stream.join(30)
    out.publish(topic, b"definitely not json", qos=1).wait_for_publish(10)
    wait_until(lambda: len(accepted_ids(second)) == 1_000 and second.anchorer.pending_count() == 0)
    out.loop_stop()
    out.disconnect()

    registry = consortium.contract("CollateralRegistry")
    with Session(second.engine) as session:
        windows = session.exec(select(EventWindow)).all()
        anchored_before = session.exec(select(func.count()).select_from(DeviceEvent).join(
            EventWindow, EventWindow.id == DeviceEvent.window_id).where(
            EventWindow.status == "anchored", DeviceEvent.id.in_(before))).one()

    def counters() -> dict[str, int]:
        with Session(second.engine) as session:
            return read_counters(session)

    wait_until(lambda: counters()["refused.malformed"] == 1, 10)
    assert anchored_before == len(before)  # every event accepted before the crash is anchored after it
    assert sum(registry.functions.window(w.chain_window_id).call()[2] for w in windows) == 1_000
    assert counters()["accepted"] == 1_000  # nothing lost, nothing twice (redeliveries come back as replays)
    print("counters after the restart:", counters(), "accepted before the crash:", len(before))
