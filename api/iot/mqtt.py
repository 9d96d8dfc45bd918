"""The MQTT path: one topic per gateway member, ``{prefix}/{gateway}/events``, QoS 1, a persistent
session, and an acknowledgement only after the events are in the database.

The client connects with MQTT 5, ``clean_start=False`` and a session expiry interval, so the
broker keeps the subscription and queues messages while the service is down; acknowledgements
are manual (``manual_ack_set``), sent once a batch of messages is persisted. A message not yet
acknowledged when the service stops (or crashes) is redelivered by the broker on reconnect;
events already accepted come back refused as ``replayed`` with the id they were stored under.

A message holds one signed event, a list of them, or ``{"events": [...]}``. A message that is
not JSON counts as one malformed event. Refused events are acknowledged too: resending them
cannot make them valid.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from api.iot.ingest import Ingestor

log = logging.getLogger("api.iot.mqtt")
BATCH_MESSAGES = 500
BATCH_WAIT_S = 0.01


def events_topic(prefix: str, gateway: str) -> str:
    return f"{prefix}/{gateway}/events"


def message_events(payload: bytes) -> list[Any]:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return [payload.decode(errors="replace")]  # refused as malformed, and counted
    if isinstance(body, dict) and set(body) == {"events"} and isinstance(body["events"], list):
        return body["events"]
    return body if isinstance(body, list) else [body]


class MqttIngest:
    def __init__(self, ingestor: Ingestor, *, host: str, port: int, client_id: str, prefix: str,
                 gateways: list[str], session_expiry_s: int, receive_maximum: int) -> None:
        self.ingestor = ingestor
        self.host, self.port = host, port
        self.prefix = prefix
        self.gateways = gateways
        self.topics = {events_topic(prefix, g): g for g in gateways}
        self._queue: queue.Queue[tuple[int, int, str, bytes]] = queue.Queue()
        self._stop = threading.Event()
        self._acking = True
        self._worker: threading.Thread | None = None
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._properties = Properties(PacketTypes.CONNECT)
        self._properties.SessionExpiryInterval = session_expiry_s
        self._properties.ReceiveMaximum = receive_maximum
        self.client.reconnect_delay_set(0.2, 5)

    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="iot-mqtt-ingest", daemon=True)
        self._worker.start()
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=self._properties)
        self.client.loop_start()

    def stop(self, *, graceful: bool = True, timeout: float = 10.0) -> None:
        """Graceful: persist and acknowledge what was received, then disconnect. Otherwise drop the
        connection at once without acknowledging anything more (what a crash looks like to the broker)."""
        if not graceful:
            self._acking = False
            self._stop.set()
            self.client.loop_stop()
            sock = self.client.socket()
            if sock is not None:
                sock.close()
        else:
            self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout)
        if graceful:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        client.subscribe([(topic, 1) for topic in self.topics])
        self.connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._queue.put((message.mid, message.qos, message.topic, message.payload))

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch(0.1)
            if batch:
                self._persist_then_ack(batch)
        left = self._queue.qsize()  # graceful stop: what had arrived by now; the broker resends the rest
        while self._acking and left > 0:
            batch = self._next_batch(0.0, limit=left)
            if not batch:
                break
            left -= len(batch)
            self._persist_then_ack(batch)

    def _next_batch(self, timeout: float, limit: int = BATCH_MESSAGES) -> list[tuple[int, int, str, bytes]]:
        try:
            batch = [self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()]
        except queue.Empty:
            return []
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < min(limit, BATCH_MESSAGES):
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _persist_then_ack(self, batch: list[tuple[int, int, str, bytes]]) -> None:
        by_gateway: dict[str, list[Any]] = defaultdict(list)
        for _mid, _qos, topic, payload in batch:
            by_gateway[self.topics.get(topic, "")].extend(message_events(payload))
        while self._acking:
            try:
                for gateway, events in by_gateway.items():
                    self.ingestor.ingest(events, via="mqtt", gateway=gateway)
                break
            except Exception:  # the database is unavailable: retry; what was stored comes back as replays
                log.exception("could not persist an MQTT batch; retrying")
                time.sleep(0.5)
        else:
            return  # crashed: acknowledge nothing more
        for mid, qos, _topic, _payload in batch:
            if qos > 0:
                self.client.ack(mid, qos)
