"""The IoT service's HTTP routes (prefix ``/iot``): thin, each calls one service part.

Device events come in batches on ``POST /iot/events``; registry, review and other writes need
the admin token when one is configured (``ABS_IOT_ADMIN_TOKEN``); reads are open to the
consortium's network.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from api.errors import AuthenticationError, InvalidInputError, NotFoundError, PayloadTooLargeError
from api.iot.models import (
    Action, Collateral, CollateralLoan, CollateralWarning, CreditFreeze, Device, EventWindow, Loan, OutboxNotice,
    ReviewCase,
)
from api.iot.monitoring import collateral_values_for_loans, warnings_for_loans
from api.iot.records import now_ms, read_counters
from api.iot.schemas import Acknowledgement, CollateralSpec, DeviceSpec, LoanDrawn, ReviewDecision
from api.iot.service import IotService
from api.iot.valuation import collateral_value
from scoring.iot.telemetry import Level


def get_service(request: Request) -> IotService:
    return request.app.state.iot


ServiceDep = Annotated[IotService, Depends(get_service)]


def require_admin(request: Request, iot: ServiceDep) -> None:
    token = iot.settings.admin_token
    if token and request.headers.get("authorization") != f"Bearer {token}":
        raise AuthenticationError("this write needs the IoT admin token")


AdminDep = Depends(require_admin)
router = APIRouter(prefix="/iot", tags=["iot"])


@router.get("/health")
def health(iot: ServiceDep) -> dict:
    return {"status": "ok" if iot.started else "starting", "mqtt": bool(iot.mqtt and iot.mqtt.connected.is_set()),
            "pending_events": iot.anchorer.pending_count()}


@router.post("/events")
async def post_events(request: Request, iot: ServiceDep) -> dict:
    """A batch of signed events: ``{"events": [...]}`` or a JSON list. Each is accepted or refused."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidInputError("the body is not JSON") from None
    events = body.get("events") if isinstance(body, dict) else body
    if not isinstance(events, list):
        raise InvalidInputError('send {"events": [...]} or a JSON list of events')
    if len(events) > iot.settings.max_batch_events:
        raise PayloadTooLargeError(f"at most {iot.settings.max_batch_events} events per batch")
    results = await run_in_threadpool(iot.ingestor.ingest, events, via="http")
    accepted = [r.event_id for r in results if r.status == "accepted"]
    refused = [r.to_dict() for r in results if r.status == "refused"]
    return {"accepted": len(accepted), "refused": len(refused), "accepted_ids": accepted, "refusals": refused}


@router.get("/counters")
def counters(iot: ServiceDep) -> dict:
    with Session(iot.engine) as session:
        return read_counters(session)


# ---------------------------------------------------------------- registry


@router.post("/collaterals", status_code=201, dependencies=[AdminDep])
def register_collateral(spec: CollateralSpec, iot: ServiceDep) -> dict:
    return iot.registry.register_collateral(spec).model_dump()


@router.get("/collaterals")
def list_collaterals(iot: ServiceDep) -> list[dict]:
    with Session(iot.engine) as session:
        return [c.model_dump() for c in session.exec(select(Collateral).order_by(Collateral.code)).all()]


@router.get("/collaterals/{code}")
def show_collateral(code: str, iot: ServiceDep) -> dict:
    collateral = iot.registry.collateral(code)
    with Session(iot.engine) as session:
        loans = session.exec(select(Loan, CreditFreeze).join(CollateralLoan, CollateralLoan.loan_id == Loan.loan_id)
                             .join(CreditFreeze, CreditFreeze.loan_id == Loan.loan_id, isouter=True)
                             .where(CollateralLoan.collateral_code == code)).all()
        devices = session.exec(select(Device).where(Device.collateral_code == code)).all()
        warnings = session.exec(select(CollateralWarning).where(CollateralWarning.collateral_code == code)
                                .order_by(CollateralWarning.id.desc()).limit(50)).all()
        value = collateral_value(session, collateral, now_ms(iot.clock))
    return {
        **collateral.model_dump(),
        "loans": [{**loan.model_dump(), "undrawn_minor": loan.credit_line_minor - loan.drawn_minor,
                   "freeze": freeze.model_dump() if freeze else None} for loan, freeze in loans],
        "devices": [d.model_dump() for d in devices],
        "warnings": [_warning(w) for w in warnings],
        "residual_value": value,
    }


@router.get("/collaterals/{code}/value")
def value_of(code: str, iot: ServiceDep) -> dict:
    collateral = iot.registry.collateral(code)
    with Session(iot.engine) as session:
        value = collateral_value(session, collateral, now_ms(iot.clock))
    if value is None:
        raise NotFoundError(f"collateral {code} was registered without a valuation")
    return {"collateral_code": code, **value}


@router.post("/collaterals/{code}/devices", status_code=201, dependencies=[AdminDep])
def register_device(code: str, spec: DeviceSpec, iot: ServiceDep) -> dict:
    return iot.registry.register_device(code, spec).model_dump()


@router.post("/devices/{address}/revoke", dependencies=[AdminDep])
def revoke_device(address: str, iot: ServiceDep) -> dict:
    return iot.registry.revoke_device(address).model_dump()


@router.get("/devices/{address}")
def show_device(address: str, iot: ServiceDep) -> dict:
    with Session(iot.engine) as session:
        device = session.get(Device, address.lower())
    if device is None:
        raise NotFoundError(f"no device {address}")
    return device.model_dump()


@router.put("/loans/{loan_id}/drawn", dependencies=[AdminDep])
def set_drawn(loan_id: str, body: LoanDrawn, iot: ServiceDep) -> dict:
    return iot.registry.set_drawn(loan_id, body.drawn_minor).model_dump()


# ---------------------------------------------------------------- anchoring and proofs


@router.get("/events/{event_id}/proof")
def proof(event_id: int, iot: ServiceDep) -> dict:
    return iot.anchorer.proof(event_id)


@router.get("/windows")
def windows(iot: ServiceDep, limit: int = Query(default=50, ge=1, le=1000)) -> list[dict]:
    with Session(iot.engine) as session:
        return [w.model_dump() for w in session.exec(select(EventWindow).order_by(EventWindow.id.desc()).limit(limit))]


@router.post("/anchor", dependencies=[AdminDep])
def anchor_now(iot: ServiceDep) -> list[dict]:
    return [w.model_dump() for w in iot.anchorer.run_once(force=True)]


# ---------------------------------------------------------------- warnings, reviews, disposal


@router.get("/warnings")
def list_warnings(
    iot: ServiceDep,
    loan_id: Annotated[list[str] | None, Query(description="monitoring: warnings of these loans' collaterals")] = None,
    since_ms: int = 0,
    collateral: str | None = None,
    level: str | None = Query(default=None, pattern="^(blue|yellow|red)$"),
    status: str | None = Query(default=None, pattern="^(raising|open|resolved)$"),
    overdue: bool = False,
) -> list[dict]:
    if loan_id:
        minimum = Level.from_name(level) if level else Level.BLUE
        return [w.to_dict() for w in warnings_for_loans(iot.engine, loan_id, since_ms, min_level=minimum)]
    query = select(CollateralWarning).where(CollateralWarning.raised_at_ms >= since_ms)
    if collateral:
        query = query.where(CollateralWarning.collateral_code == collateral)
    if level:
        query = query.where(CollateralWarning.level == int(Level.from_name(level)))
    if status:
        query = query.where(CollateralWarning.status == status)
    if overdue:
        query = query.where(CollateralWarning.overdue_at_ms.is_not(None), CollateralWarning.responded_at_ms.is_(None))
    with Session(iot.engine) as session:
        return [_warning(w) for w in session.exec(query.order_by(CollateralWarning.id)).all()]


@router.get("/loans/values")
def loan_values(iot: ServiceDep, loan_id: Annotated[list[str], Query()]) -> dict[str, Any]:
    return collateral_values_for_loans(iot.engine, loan_id, now_ms(iot.clock))


@router.post("/warnings/{warning_id}/acknowledge", dependencies=[AdminDep])
def acknowledge(warning_id: int, body: Acknowledgement, iot: ServiceDep) -> dict:
    return _warning(iot.reviews.acknowledge(warning_id, body))


@router.post("/warnings/{warning_id}/reviews", status_code=201, dependencies=[AdminDep])
def reopen(warning_id: int, iot: ServiceDep) -> dict:
    return iot.reviews.reopen(warning_id).model_dump()


@router.get("/reviews")
def list_reviews(iot: ServiceDep, status: str | None = Query(default=None, pattern="^(open|decided)$")) -> list[dict]:
    query = select(ReviewCase).order_by(ReviewCase.id)
    if status:
        query = query.where(ReviewCase.status == status)
    with Session(iot.engine) as session:
        return [r.model_dump() for r in session.exec(query).all()]


@router.post("/reviews/{review_id}/decision", dependencies=[AdminDep])
def decide(review_id: int, body: ReviewDecision, iot: ServiceDep) -> dict:
    return iot.reviews.decide(review_id, body).model_dump()


@router.get("/freezes")
def freezes(iot: ServiceDep) -> list[dict]:
    with Session(iot.engine) as session:
        return [f.model_dump() for f in session.exec(select(CreditFreeze).order_by(CreditFreeze.loan_id)).all()]


@router.get("/actions")
def actions(iot: ServiceDep, warning_id: int | None = None, collateral: str | None = None,
            limit: int = Query(default=200, ge=1, le=5000)) -> list[dict]:
    query = select(Action).order_by(Action.id.desc()).limit(limit)
    if warning_id is not None:
        query = query.where(Action.warning_id == warning_id)
    if collateral:
        query = query.where(Action.collateral_code == collateral)
    with Session(iot.engine) as session:
        return [a.model_dump() for a in session.exec(query).all()]


@router.get("/outbox")
def outbox(iot: ServiceDep, limit: int = Query(default=100, ge=1, le=1000)) -> list[dict]:
    with Session(iot.engine) as session:
        return [n.model_dump() for n in session.exec(select(OutboxNotice).order_by(OutboxNotice.id.desc()).limit(limit))]


@router.post("/evaluate", dependencies=[AdminDep])
def evaluate_now(iot: ServiceDep) -> list[dict]:
    return [_warning(w) for w in iot.evaluator.run_once(everything=True)]


def _warning(w: CollateralWarning) -> dict:
    return {**w.model_dump(), "level_name": Level(w.level).name.lower()}
