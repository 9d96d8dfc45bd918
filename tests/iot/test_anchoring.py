"""Every accepted event is anchored in a window whose root is on chain, and its proof verifies there."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.iot.app import create_app
from api.iot.models import DeviceEvent, EventWindow
from chain.leaves import IOT_EVENT_LEAF
from chain.merkle import StandardMerkleTree
from iot_support import register, signed


def test_every_accepted_event_proves_against_its_window_root_on_chain(make_service, device_key, consortium):
    service = make_service(start=False, window_seconds=0.1, window_max_events=40)
    registry = consortium.contract("CollateralRegistry")
    keys = [device_key() for _ in range(3)]
    for key in keys:
        register(service, key)
    with TestClient(create_app(service=service)) as client:
        ids = []
        for batch in range(5):
            events = [signed(key, batch * 20 + i + 1, "temperature", {"milli_c": 4_000 + i})
                      for key in keys for i in range(20)]
            ids += client.post("/iot/events", json={"events": events}).json()["accepted_ids"]
        assert len(ids) == 300
        deadline = time.monotonic() + 20
        while service.anchorer.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)

        with Session(service.engine) as session:
            windows = session.exec(select(EventWindow)).all()
            unanchored = session.exec(select(func.count()).select_from(DeviceEvent)
                                      .where(DeviceEvent.window_id.is_(None))).one()
        assert unanchored == 0 and all(w.status == "anchored" for w in windows)
        assert all(w.event_count <= 40 for w in windows)  # N-event windows
        assert sum(registry.functions.window(w.chain_window_id).call()[2] for w in windows) == 300
        for w in windows:
            assert "0x" + registry.functions.window(w.chain_window_id).call()[1].hex() == w.root

        for event_id in ids:
            proof = client.get(f"/iot/events/{event_id}/proof").json()
            assert proof["verified_on_chain"] is True, event_id
            assert StandardMerkleTree.verify(proof["window"]["root"], IOT_EVENT_LEAF, proof["leaf"], proof["proof"])
        leaf = list(proof["leaf"])
        leaf[1] += 1
        assert not StandardMerkleTree.verify(proof["window"]["root"], IOT_EVENT_LEAF, leaf, proof["proof"])
        assert not service.chain.verify_event(proof["window"]["chain_window_id"], leaf[0], leaf[1], leaf[2], leaf[3],
                                              proof["proof"])


def test_a_window_cut_before_a_crash_is_anchored_on_restart(make_service, device_key, consortium):
    first = make_service(start_workers=False)
    key = device_key()
    register(first, key)
    first.ingestor.ingest([signed(key, i, "status", {"state": "running"}) for i in range(1, 11)], via="http")
    window = first.anchorer._cut(first.registry.devices[next(iter(first.registry.devices))].gateway)
    assert window is not None and window.status == "pending"  # cut, but the process dies before sending
    first.stop(graceful=False)

    second = make_service(start_workers=False)  # same database: start() settles the pending window
    with Session(second.engine) as session:
        settled = session.get(EventWindow, window.id)
    assert settled.status == "anchored" and settled.chain_window_id
    assert consortium.contract("CollateralRegistry").functions.windowOfRoot(bytes.fromhex(settled.root[2:])).call() \
        == settled.chain_window_id
    second.anchorer.recover()  # settling again changes nothing
    with Session(second.engine) as session:
        assert session.get(EventWindow, window.id).chain_window_id == settled.chain_window_id
