"""The hook monitoring calls: warnings on the collaterals of given loans since a time, and values."""

from __future__ import annotations

import time

from api.iot.monitoring import collateral_values_for_loans, warnings_for_loans
from api.iot.schemas import ReviewDecision
from iot_support import SITE, now_ms, register, signed, unique_code
from scoring.iot.telemetry import Level

AWAY = {"lat_e7": SITE["lat_e7"] + 1_000_000, "lon_e7": SITE["lon_e7"]}


def test_warnings_of_the_collaterals_of_these_loans_since_t(make_service, device_key):
    service = make_service(start_workers=False)
    shared, other = device_key(), device_key()
    code = unique_code("EXC")
    loans = [{"loan_id": f"{code}-A", "borrower_id": "B-A", "credit_line_minor": 1_000, "drawn_minor": 0},
             {"loan_id": f"{code}-B", "borrower_id": "B-B", "credit_line_minor": 1_000, "drawn_minor": 400}]
    register(service, shared, code=code, loans=loans,
             valuation={"cost_minor": 1_000_000_00, "acquired_on": "2024-01-01", "meter_hours": 5_000})
    other_code = register(service, other)
    start = now_ms()

    service.ingestor.ingest([signed(shared, 1, "orders", {"total": 50, "delayed": 10})], via="http")
    service.evaluator.run_once(everything=True)  # yellow on the shared collateral
    time.sleep(0.01)
    middle = now_ms()
    service.ingestor.ingest([signed(shared, 2, "location", AWAY), signed(other, 1, "location", AWAY)], via="http")
    service.evaluator.run_once(everything=True)  # red on both collaterals

    found = warnings_for_loans(service.engine, [f"{code}-A", f"{code}-B", "unknown-loan"], start)
    assert [(w.loan_id, w.level, w.rule) for w in found] == [
        (f"{code}-A", "yellow", "yellow.order_delay"), (f"{code}-B", "yellow", "yellow.order_delay"),
        (f"{code}-A", "red", "red.geofence"), (f"{code}-B", "red", "red.geofence"),
    ]
    assert all(w.loan_frozen_bps == 10_000 and w.status == "open" and w.chain_warning_id for w in found)
    assert [w.level for w in warnings_for_loans(service.engine, [f"{code}-A"], middle)] == ["red"]
    assert [w.level for w in warnings_for_loans(service.engine, [f"{code}-A"], start, min_level=Level.RED)] == ["red"]
    assert warnings_for_loans(service.engine, [f"{code}-A"], now_ms() + 1) == []
    assert warnings_for_loans(service.engine, [], start) == []
    assert {w.collateral_code for w in warnings_for_loans(service.engine, [f"{other_code}-L1"], start)} == {other_code}

    red = next(w for w in found if w.level == "red")
    case = next(r for r in service.reviews_open() if r.warning_id == red.warning_id)
    service.reviews.decide(case.id, ReviewDecision(outcome="restore", notes="back on site", reviewer="R"))
    after = warnings_for_loans(service.engine, [f"{code}-A"], start)
    assert [(w.level, w.status, w.loan_frozen_bps) for w in after] == [("yellow", "open", 1_500),
                                                                      ("red", "resolved", 1_500)]
    assert [w.rule for w in warnings_for_loans(service.engine, [f"{code}-A"], start, include_resolved=False)] == [
        "yellow.order_delay"]

    values = collateral_values_for_loans(service.engine, [f"{code}-A", f"{other_code}-L1"], now_ms())
    (value,) = values[f"{code}-A"]
    assert value["collateral_code"] == code and 0 < value["value_minor"] < 1_000_000_00
    assert f"{other_code}-L1" not in values  # registered without a valuation
