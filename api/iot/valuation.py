"""Residual value of each collateral (seed 000 §3.1): the pure model of ``scoring.iot.value`` fed
with the collateral's valuation record and every status sample its devices have sent."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import Session, select

from api.iot.models import Collateral, DeviceEvent
from scoring.iot.telemetry import HOUR_MS, StatusSample
from scoring.iot.value import ValuationParams, failure_count, operating_hours, residual_value

PARAM_KEYS = ("annual_decline_bps", "rated_hours", "failure_penalty_bps", "max_failure_penalty_bps", "salvage_bps")


def collateral_value(session: Session, collateral: Collateral, at_ms: int, hold_ms: int = HOUR_MS) -> dict | None:
    """The residual value and its inputs, or None for a collateral registered without a valuation."""
    v = collateral.valuation
    if not v:
        return None
    rows = session.exec(
        select(DeviceEvent.ts_ms, DeviceEvent.payload)
        .where(DeviceEvent.collateral_code == collateral.code, DeviceEvent.type == "status")
        .order_by(DeviceEvent.ts_ms)
    ).all()
    status = [StatusSample(ts, payload["state"]) for ts, payload in rows]
    hours = operating_hours(status, at_ms, hold_ms) + v["meter_hours"]
    failures = failure_count(status) + v["failures"]
    today = datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).date()
    age_days = max(0, (today - date.fromisoformat(v["acquired_on"])).days)
    params = ValuationParams(**{key: v[key] for key in PARAM_KEYS})
    value = residual_value(v["cost_minor"], age_days, hours, failures, params)
    return {"cost_minor": v["cost_minor"], "age_days": age_days, "operating_hours": str(hours.quantize(1)),
            "failures": failures, **value.to_dict()}
