"""A red event freezes all undrawn credit on chain at once and a review lifts it; yellow freezes a
share, blue only reminds; every step is recorded and deadlines are tracked."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.iot.app import create_app
from chain.leaves import asset_id, collateral_id
from iot_support import SITE, now_ms, register, signed, unique_code

DAY = 86_400_000
AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}  # ~11 km north of the site


def loans_for(code: str) -> list[dict]:
    return [
        {"loan_id": f"{code}-L1", "borrower_id": f"{code}-B1", "credit_line_minor": 3_000_000_00, "drawn_minor": 1_000_000_00},
        {"loan_id": f"{code}-L2", "borrower_id": f"{code}-B1", "credit_line_minor": 1_000_000_00, "drawn_minor": 0},
    ]


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def frozen_bps(registry, loan_id: str) -> int:
    return registry.functions.freezeOf(asset_id(loan_id)).call()[1]


def review_of(client: TestClient, warning_id: int) -> dict | None:
    """The warning's review case (opened right after the freezes are on chain)."""
    return next((r for r in client.get("/iot/reviews").json() if r["warning_id"] == warning_id), None)


def post(client: TestClient, events: list) -> dict:
    body = client.post("/iot/events", json={"events": events}).json()
    assert body["accepted"] == len(events), body
    return body


def test_red_event_freezes_on_chain_and_a_review_restores(make_service, device_key, consortium):
    service = make_service(start=False)
    registry = consortium.contract("CollateralRegistry")
    key = device_key()
    code = unique_code("EXC")
    register(service, key, code=code, loans=loans_for(code))
    with TestClient(create_app(service=service)) as client:
        post(client, [signed(key, 1, "location", SITE)])
        sent = time.monotonic()
        post(client, [signed(key, 2, "location", AWAY)])
        wait_for(lambda: frozen_bps(registry, f"{code}-L1") == 10_000 and frozen_bps(registry, f"{code}-L2") == 10_000)
        assert time.monotonic() - sent < 3.0

        (warning,) = client.get("/iot/warnings", params={"collateral": code}).json()
        assert (warning["level_name"], warning["rule"], warning["status"]) == ("red", "red.geofence", "open")
        assert warning["respond_by_ms"] - warning["raised_at_ms"] == 2 * 3600 * 1000
        on_chain = registry.functions.warning(warning["chain_warning_id"]).call()
        assert on_chain[0] == collateral_id(code) and on_chain[1] == 3 and on_chain[2] == 1
        def active_freezes() -> dict | None:
            found = {f["loan_id"]: f for f in client.get("/iot/freezes").json()
                     if f["loan_id"].startswith(code) and f["status"] == "active"}
            return found if len(found) == 2 else None

        freezes = wait_for(active_freezes)
        assert freezes[f"{code}-L1"]["amount_minor"] == 2_000_000_00 and freezes[f"{code}-L2"]["frozen_bps"] == 10_000

        review = wait_for(lambda: review_of(client, warning["id"]))
        assert review["due_at_ms"] == warning["respond_by_ms"]
        wait_for(lambda: any(n["warning_id"] == warning["id"] and n["sent_at_ms"] for n in client.get("/iot/outbox").json()))

        decision = {"outcome": "restore", "notes": "on site again: moved for a repair", "reviewer": "risk officer A"}
        assert client.post(f"/iot/reviews/{review['id']}/decision", json=decision).status_code == 200
        assert frozen_bps(registry, f"{code}-L1") == 0 and frozen_bps(registry, f"{code}-L2") == 0
        assert registry.functions.warning(warning["chain_warning_id"]).call()[2] == 2  # Resolved
        kinds = [a["kind"] for a in reversed(client.get("/iot/actions", params={"warning_id": warning["id"]}).json())]
        assert kinds[:2] == ["warning_raised", "credit_frozen"] and kinds.count("credit_frozen") == 2
        assert {"notice_queued", "review_opened", "notice_sent"} <= set(kinds)
        assert kinds[-4:] == ["review_decided", "credit_unfrozen", "credit_unfrozen", "warning_resolved"]
        assert client.post(f"/iot/reviews/{review['id']}/decision", json=decision).status_code == 409

        post(client, [signed(key, 3, "location", AWAY)])  # new evidence after the review: a new warning
        wait_for(lambda: frozen_bps(registry, f"{code}-L1") == 10_000)


def test_yellow_freezes_a_share_and_red_on_top_is_lifted_back_to_it(make_service, device_key, consortium):
    service = make_service(start=False, yellow_freeze_bps=1_500)
    registry = consortium.contract("CollateralRegistry")
    key = device_key()
    code = unique_code("SHOP")
    register(service, key, code=code, loans=loans_for(code), industry="retail")
    with TestClient(create_app(service=service)) as client:
        post(client, [signed(key, 1, "orders", {"total": 100, "delayed": 20})])
        wait_for(lambda: frozen_bps(registry, f"{code}-L1") == 1_500)
        freeze = next(f for f in client.get("/iot/freezes").json() if f["loan_id"] == f"{code}-L1")
        assert freeze["amount_minor"] == 300_000_00  # 15 % of 2,000,000.00 undrawn

        post(client, [signed(key, 2, "location", AWAY)])
        wait_for(lambda: frozen_bps(registry, f"{code}-L1") == 10_000)
        red = next(w for w in client.get("/iot/warnings", params={"collateral": code, "level": "red"}).json())
        review = wait_for(lambda: review_of(client, red["id"]))
        decision = {"outcome": "restore", "notes": "GPS fault, asset seen on site", "reviewer": "risk officer B"}
        client.post(f"/iot/reviews/{review['id']}/decision", json=decision).raise_for_status()
        assert frozen_bps(registry, f"{code}-L1") == 1_500  # the yellow warning still stands


def test_a_review_can_lower_the_level_and_the_frozen_share(make_service, device_key, consortium):
    service = make_service(start=False)
    registry = consortium.contract("CollateralRegistry")
    key = device_key()
    code = register(service, key)
    with TestClient(create_app(service=service)) as client:
        post(client, [signed(key, 1, "location", AWAY)])
        wait_for(lambda: frozen_bps(registry, f"{code}-L1") == 10_000)
        (warning,) = client.get("/iot/warnings", params={"collateral": code}).json()
        review = wait_for(lambda: review_of(client, warning["id"]))
        decision = {"outcome": "adjust", "level": "yellow", "notes": "rented to a neighbour site", "reviewer": "C"}
        client.post(f"/iot/reviews/{review['id']}/decision", json=decision).raise_for_status()
        assert frozen_bps(registry, f"{code}-L1") == 1_500
        assert registry.functions.warning(warning["chain_warning_id"]).call()[1] == 2
        (after,) = client.get("/iot/warnings", params={"collateral": code}).json()
        assert after["level_name"] == "yellow" and after["status"] == "open" and after["responded_at_ms"]


def test_blue_sends_a_reminder_only_and_deadlines_are_tracked(make_service, device_key, consortium):
    service = make_service(start=False, max_past_skew_s=10 * 86_400)
    key = device_key()
    code = register(service, key, industry="retail")
    today = now_ms() // DAY * DAY
    daily = [1_500, 500, 1_250, 750, 1_050, 950, 1_000]  # coefficient of variation exactly 30 %
    events = [signed(key, i + 1, "energy", {"wh": wh}, ts=today - (7 - i) * DAY + 12 * 3_600_000)
              for i, wh in enumerate(daily)]
    with TestClient(create_app(service=service)) as client:
        post(client, events)
        client.post("/iot/evaluate").raise_for_status()
        (warning,) = client.get("/iot/warnings", params={"collateral": code}).json()
        assert (warning["level_name"], warning["rule"], warning["measure"]) == ("blue", "blue.energy_fluctuation", 3_000)
        assert warning["respond_by_ms"] - warning["raised_at_ms"] == 72 * 3_600_000
        assert frozen_bps(consortium.contract("CollateralRegistry"), f"{code}-L1") == 0
        assert not [r for r in client.get("/iot/reviews").json() if r["warning_id"] == warning["id"]]
        (notice,) = [n for n in client.get("/iot/outbox").json() if n["warning_id"] == warning["id"]]
        assert notice["kind"] == "reminder" and notice["borrower_id"] == f"{code}-B1"

        service.reviews.clock = lambda: time.time() + 73 * 3600  # three days later, unanswered
        assert warning["id"] in service.reviews.sweep_deadlines()
        assert warning["id"] in [w["id"] for w in client.get("/iot/warnings", params={"overdue": True}).json()]
        assert service.reviews.sweep_deadlines() == []  # marked once
        ack = {"notes": "called the borrower: seasonal line", "by": "relationship manager"}
        client.post(f"/iot/warnings/{warning['id']}/acknowledge", json=ack).raise_for_status()
        assert warning["id"] not in [w["id"] for w in client.get("/iot/warnings", params={"overdue": True}).json()]
