"""Accept or refuse signed device events, and persist the accepted ones before anyone is told.

Checks, in order, each with its own refusal counter: malformed (shape, types, ranges);
bad signature (the event hash is not signed by the claimed device); unknown device (or one
registered under another gateway than the MQTT topic it came on); revoked device; timestamp
skew (further ahead or behind the service's clock than configured); replayed (the device's
sequence number was used before, by this very event or another) and out of order (lower than
the device's latest but never seen). Sequence gaps are accepted: lost events are the device's
loss, not a reason to refuse the next ones.

Accepted events, the devices' new last sequences and the counters are written in one database
transaction; only after it commits does the caller answer (HTTP) or acknowledge (MQTT). The
service assigns event ids itself, so it must be the only process writing its database.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.iot.models import DeviceEvent
from api.iot.payloads import MalformedEventError, ParsedEvent, parse_event
from api.iot.records import Clock, add_to_counters, now_ms
from api.iot.registry import Registry
from api.iot.signing import canonical_event_fast, event_hash, payload_json, recover_signer

_INSERT = ("INSERT INTO iot_event (id, device, seq, ts_ms, type, payload, event_hash, signature, collateral_code, "
           "gateway, received_at_ms, via) VALUES ({marks}, {payload}, {rest})")


@dataclass(frozen=True)
class EventResult:
    index: int
    status: str  # accepted | refused
    reason: str | None = None
    event_id: int | None = None
    detail: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class AcceptedEvent:
    id: int
    collateral_code: str
    type: str
    ts_ms: int
    payload: dict


@dataclass(frozen=True)
class _Checked:
    index: int
    event: ParsedEvent
    hash_hex: str
    payload_text: str


class Ingestor:
    def __init__(self, engine: Engine, registry: Registry, *, clock: Clock, max_future_skew_s: float,
                 max_past_skew_s: float, on_accepted: Callable[[list[AcceptedEvent]], None] | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.clock = clock
        self.max_future_ms = int(max_future_skew_s * 1000)
        self.max_past_ms = int(max_past_skew_s * 1000)
        self.on_accepted = on_accepted
        self._next_id: int | None = None  # event ids are assigned here, under the registry lock

    def ingest(self, raw_events: Sequence[Any], *, via: str, gateway: str | None = None) -> list[EventResult]:
        results: dict[int, EventResult] = {}
        checked: list[_Checked] = []
        for index, raw in enumerate(raw_events):  # signature work needs no lock
            try:
                event = parse_event(raw)
            except MalformedEventError as exc:
                results[index] = EventResult(index, "refused", "malformed", detail=str(exc))
                continue
            text = payload_json(event.payload)
            digest = event_hash(canonical_event_fast(event.device, event.seq, event.ts, event.type, text))
            if recover_signer(digest, event.signature) != event.device:
                results[index] = EventResult(index, "refused", "bad_signature")
                continue
            checked.append(_Checked(index, event, "0x" + digest.hex(), text))
        accepted = self._admit(checked, results, via, gateway)  # under the registry lock
        if accepted and self.on_accepted is not None:
            self.on_accepted(accepted)
        return [results[i] for i in range(len(raw_events))]

    def _admit(self, checked: list[_Checked], results: dict[int, EventResult], via: str,
               gateway: str | None) -> list[AcceptedEvent]:
        received = now_ms(self.clock)
        low, high = received - self.max_past_ms, received + self.max_future_ms
        rows: list[tuple] = []  # the iot_event columns after id, in _INSERT's order
        kept: list[_Checked] = []
        reused: list[_Checked] = []
        new_last: dict[str, int] = {}
        devices = self.registry.devices
        with self.registry.lock:
            for item in checked:
                e = item.event
                device = devices.get(e.device)
                if device is None or (gateway is not None and device.gateway != gateway):
                    results[item.index] = EventResult(item.index, "refused", "unknown_device")
                elif not device.active:
                    results[item.index] = EventResult(item.index, "refused", "revoked_device")
                elif not low <= e.ts <= high:
                    results[item.index] = EventResult(item.index, "refused", "timestamp_skew",
                                                      detail=f"ts {e.ts} vs service clock {received}")
                elif e.seq <= new_last.get(e.device, device.last_seq):
                    reused.append(item)
                else:
                    new_last[e.device] = e.seq
                    kept.append(item)
                    rows.append((e.device, e.seq, e.ts, e.type, item.payload_text, item.hash_hex, e.signature,
                                 device.collateral_code, device.gateway, received, via))
            self._classify_reused(reused, kept, results)
            tally = Tally(f"refused.{r.reason}" for r in results.values())
            tally["accepted"] = len(rows)
            ids = self._store(rows, new_last, tally)
            for address, seq in new_last.items():
                devices[address].last_seq = seq
        accepted = []
        for item, event_id, row in zip(kept, ids, rows):
            results[item.index] = EventResult(item.index, "accepted", event_id=event_id)
            accepted.append(AcceptedEvent(event_id, row[7], row[3], row[2], item.event.payload))
        return accepted

    def _store(self, rows: list[tuple], new_last: dict[str, int], tally: Tally) -> list[int]:
        """Insert the accepted events (ids assigned here: this process is their only writer), the
        devices' last sequences and the counters, in one transaction. Plain DBAPI executemany:
        the ORM's per-row work cost more than everything else an event needs."""
        ids: list[int] = []
        with self.engine.begin() as connection:
            if rows:
                if self._next_id is None:
                    self._next_id = (connection.execute(select(func.max(DeviceEvent.id))).scalar() or 0) + 1
                ids = list(range(self._next_id, self._next_id + len(rows)))
                pg = connection.dialect.name == "postgresql"
                mark, payload = ("%s", "CAST(%s AS JSON)") if pg else ("?", "?")
                connection.exec_driver_sql(_INSERT.format(marks=", ".join([mark] * 5), payload=payload,
                                                          rest=", ".join([mark] * 6)),
                                           [(i, *row) for i, row in zip(ids, rows)])
                connection.exec_driver_sql(f"UPDATE iot_device SET last_seq = {mark} WHERE address = {mark}",
                                           [(seq, address) for address, seq in new_last.items()])
            add_to_counters(connection, tally)
        if ids:
            self._next_id = ids[-1] + 1
        return ids

    def _classify_reused(self, reused: list[_Checked], kept: list[_Checked], results: dict[int, EventResult]) -> None:
        """A sequence at or below the device's latest: seen before (replayed) or skipped (out of order)."""
        if not reused:
            return
        keys = {(item.event.device, item.event.seq) for item in reused}
        with Session(self.engine) as session:
            seen = {(row.device, row.seq): row for row in session.exec(
                select(DeviceEvent.device, DeviceEvent.seq, DeviceEvent.id, DeviceEvent.event_hash)
                .where(tuple_(DeviceEvent.device, DeviceEvent.seq).in_(list(keys)))
            ).all()}
        in_batch = {(item.event.device, item.event.seq) for item in kept}
        for item in reused:
            key = (item.event.device, item.event.seq)
            if key in seen:
                row = seen[key]
                same = row.event_hash == item.hash_hex
                results[item.index] = EventResult(item.index, "refused", "replayed", event_id=row.id if same else None,
                                                  detail="already accepted" if same else "sequence already used")
            elif key in in_batch:
                results[item.index] = EventResult(item.index, "refused", "replayed", detail="twice in one batch")
            else:
                results[item.index] = EventResult(item.index, "refused", "out_of_order")
