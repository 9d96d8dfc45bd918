"""Every class of refused event is refused, counted, and leaves accepted events alone."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.iot.app import create_app
from api.iot.signing import address_of, sign_event
from iot_support import now_ms, register, signed

RUNNING = {"state": "running"}


def post(client: TestClient, events: list) -> dict:
    response = client.post("/iot/events", json={"events": events})
    assert response.status_code == 200, response.text
    return response.json()


def reasons(body: dict) -> list[str]:
    return [r["reason"] for r in body["refusals"]]


def test_each_refusal_class_is_refused_and_counted(make_service, device_key):
    service = make_service(start=False, max_future_skew_s=60, max_past_skew_s=3600)
    key, stranger, revoked = device_key(), device_key(), device_key()
    register(service, key)
    register(service, revoked)
    service.registry.revoke_device(address_of(revoked))
    with TestClient(create_app(service=service)) as client:
        good = [signed(key, seq, "status", RUNNING) for seq in (1, 2, 3)]
        assert post(client, good)["accepted"] == 3

        tampered = {**signed(key, 10, "status", RUNNING), "payload": {"state": "down"}}
        other_signer = sign_event(stranger, {"device": address_of(key), "seq": 11, "ts": now_ms(), "type": "status",
                                             "payload": RUNNING})  # claims to be the device, signed by another key
        cases = {
            "malformed": [
                {"device": address_of(key), "seq": 12, "type": "status", "payload": RUNNING},  # no ts, no signature
                signed(key, 13, "temperature", {"milli_c": 4.5}),  # a float
                signed(key, 14, "teleport", {}),  # unknown type
                signed(key, 15, "orders", {"total": 3, "delayed": 4}),
                "not an event",
            ],
            "bad_signature": [tampered, other_signer, {**signed(key, 16, "status", RUNNING), "signature": "0x1234"}],
            "unknown_device": [signed(stranger, 1, "status", RUNNING)],
            "revoked_device": [signed(revoked, 1, "status", RUNNING)],
            "replayed": [good[0], signed(key, 2, "status", {"state": "idle"})],  # resent, and a reused sequence
            "out_of_order": [],
            "timestamp_skew": [signed(key, 20, "status", RUNNING, ts=now_ms() + 120_000),
                               signed(key, 21, "status", RUNNING, ts=now_ms() - 7_200_000)],
        }
        for reason, events in cases.items():
            if events:
                body = post(client, events)
                assert body["accepted"] == 0 and reasons(body) == [reason] * len(events), (reason, body)

        assert post(client, [signed(key, 30, "status", RUNNING)])["accepted"] == 1  # a gap is fine
        body = post(client, [signed(key, 25, "status", RUNNING)])  # below the latest, never seen
        assert reasons(body) == ["out_of_order"]
        replay = post(client, [good[1]])["refusals"][0]
        assert replay["event_id"] is not None and replay["detail"] == "already accepted"

        counters = client.get("/iot/counters").json()
        assert counters == {
            "accepted": 4, "refused.malformed": 5, "refused.bad_signature": 3, "refused.unknown_device": 1,
            "refused.revoked_device": 1, "refused.replayed": 3, "refused.out_of_order": 1,
            "refused.timestamp_skew": 2,
        }


def test_a_batch_mixes_accepted_and_refused_events_in_order(make_service, device_key):
    service = make_service(start=False)
    key = device_key()
    register(service, key)
    with TestClient(create_app(service=service)) as client:
        body = post(client, [signed(key, 1, "status", RUNNING), signed(key, 1, "status", RUNNING),
                             signed(key, 2, "temperature", {"milli_c": 4_000})])
        assert body["accepted"] == 2 and [r["index"] for r in body["refusals"]] == [1]
        assert body["refusals"][0]["reason"] == "replayed"
        assert client.post("/iot/events", content=b"{").status_code == 422
        too_many = client.post("/iot/events", json=[{}] * (service.settings.max_batch_events + 1))
        assert too_many.status_code == 413
