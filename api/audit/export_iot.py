"""The IoT bundle of anchored windows, from the IoT service's database (the operator's side of
``audit iot``; ``absctl audit export-iot``): read-only, by reflection. Format: ``api.audit.iot_audit``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import MetaData, Table, create_engine, select

from api.audit.bundle import dumps, header_line


def export_iot_lines(database_url: str, chain_window_ids: Sequence[int]) -> Iterator[str]:
    """The IoT bundle of these anchored windows (read-only, by reflection)."""
    engine = create_engine(database_url)
    metadata = MetaData()
    with engine.connect() as connection:
        windows_t = Table("iot_window", metadata, autoload_with=connection)
        events_t = Table("iot_event", metadata, autoload_with=connection)
        windows = [dict(w) for w in connection.execute(
            select(windows_t).where(windows_t.c.chain_window_id.in_(list(chain_window_ids)))).mappings()]
        by_pk = {w["id"]: w["chain_window_id"] for w in windows}
        events = list(connection.execute(select(events_t).where(events_t.c.window_id.in_(list(by_pk)))
                                         .order_by(events_t.c.id)).mappings())
    engine.dispose()
    yield header_line("iot", {"windows": [{"window": w["chain_window_id"], "root": w["root"],
                                           "event_count": w["event_count"]} for w in windows]})
    for e in events:
        yield dumps({"kind": "event", "window": by_pk[e["window_id"]], "device": e["device"], "seq": e["seq"],
                     "ts": e["ts_ms"], "type": e["type"], "payload": e["payload"], "event_hash": e["event_hash"],
                     "signature": e["signature"]})


