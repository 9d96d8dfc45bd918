"""Monitoring routes (patent claim 7): run a cycle, report loan performance, propose a
replacement, and see a product's status, cycles, measures, notices, proofs and charts.

Who: the scoring service (SCORER) or a governor runs cycles; the product's financier (or the
SCORER, as servicer) reports performance; the product's financier proposes replacements; the
financier, investors, the exchange, the auditor and the scoring service read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.auth import Member, require_any_role
from api.errors import InvalidInputError, NotFoundError
from api.monitoring import views
from api.monitoring.charts import FORMATS, MONITORING_CHARTS, render
from api.monitoring.models import MonitoredProduct
from api.monitoring.performance import record_performance
from api.monitoring.proofs import asset_proof
from api.monitoring.replacement import propose
from api.monitoring.simulation import WorldSpec, simulate_cycle
from api.monitoring.wiring import MonitoringRuntime
from api.orchestrator.deps import MemberDep
from api.orchestrator.schemas import ErrorBody
from chain.roles import Role

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])
READERS = (Role.INVESTOR.name, Role.EXCHANGE.name, Role.AUDITOR.name, Role.SCORER.name)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no or unknown API key"},
    403: {"model": ErrorBody, "description": "the member lacks the role"},
    404: {"model": ErrorBody, "description": "no such product under monitoring visible to the member"},
    409: {"model": ErrorBody, "description": "the product or the chain is not in a state for this"},
    422: {"model": ErrorBody, "description": "what was wrong, and where (row, field)"},
}


CYCLE_EXAMPLE = {
    "cycle": 3, "as_of": "2027-02-23", "step": "done", "status": "done", "score_batch_id": 7, "live_count": 1425,
    "live_balance_minor": 1_203_559_100, "level_counts": [40, 61, 122, 180, 210, 240, 200, 180, 120, 72],
    "bad_rate_ppm": 148_052, "expected_bad_rate_ppm": 60_000, "realised_bad_rate_ppm": 15_113, "psi": 0.150848,
    "psi_band": "moderate", "triggers": [{"rule_id": "risky_levels", "kind": "level_share_above", "affected": 223,
                                          "evidence_hash": "0x5d1c...e0"}],
}
MEASURE_EXAMPLE = {"id": 4, "chain_measure_id": 4, "cycle": 3, "kind": "replacement_instruction",
                   "rule_id": "risky_levels", "status": "open", "deadline": "2027-03-09T00:00:00+00:00",
                   "subject_root": "0x8c2e...41", "loan_count": 2, "loan_ids": ["fin-7-L000000012", "fin-7-L000000031"]}


def ok(example: Any, media: str = "application/json") -> dict[int | str, dict[str, Any]]:
    return {**ERRORS, 200: {"description": "OK", "content": {media: {"example": example}}}}


def runtime(request: Request) -> MonitoringRuntime:
    return request.app.state.monitoring


def _product(rt: MonitoringRuntime, member: Member, product_id: int, *, owner_only: bool = False) -> MonitoredProduct:
    try:
        product = rt.service.product(product_id)
    except NotFoundError:
        raise NotFoundError(f"product {product_id} is not under monitoring") from None
    is_owner = member.has(Role.FINANCIER.name) and member.name == product.financier_name
    if owner_only and not is_owner:
        require_any_role(member, Role.FINANCIER.name)
        raise NotFoundError(f"no product {product_id} of member {member.name!r} is under monitoring")
    if not (is_owner or member.has(*READERS)):
        raise NotFoundError(f"product {product_id} is not visible to member {member.name!r}")
    return product


class ShockIn(BaseModel):
    region: str | None = None
    industry: str | None = None
    stress_multiplier: float = Field(default=2.0, gt=0, le=20)
    from_cycle: int | None = Field(default=None, ge=1)


class SimulationIn(BaseModel):
    """How the product's pack was generated (first simulated cycle only), and the world's seed."""

    n: int = Field(ge=1)
    pack_seed: int
    financier: str
    pack_as_of: date
    world_seed: int = 1
    volatility: float = Field(default=0.05, ge=0, le=1)


class CycleRequest(BaseModel):
    as_of: date | None = Field(default=None, description="the cycle's date; default: start date + k months")
    simulate: bool = Field(default=False, description="advance the product's synthetic world a month first")
    simulation: SimulationIn | None = None
    shock: ShockIn | None = None

    model_config = {"json_schema_extra": {"examples": [
        {"simulate": True, "shock": {"region": "north", "stress_multiplier": 3.0, "from_cycle": 3}}]}}


class PerformanceRow(BaseModel):
    loan_id: str
    status: str = Field(description="performing | defaulted | prepaid | matured")
    outstanding_balance_minor: int


@router.post("/products/{product_id}/cycles", responses=ok(CYCLE_EXAMPLE), summary="Run the product's next cycle now")
async def run_cycle(product_id: int, member: MemberDep, request: Request,
                    body: Annotated[CycleRequest, Body()] = CycleRequest()) -> dict:
    require_any_role(member, Role.SCORER.name, Role.GOVERNOR.name)
    rt = runtime(request)

    def run() -> dict:
        if body.simulate:
            spec = WorldSpec(**body.simulation.model_dump()) if body.simulation else None
            shock = body.shock.model_dump() if body.shock else None
            row = simulate_cycle(rt.service, product_id, rt.require_publisher(), rt.worlds, spec=spec, shock=shock)
        else:
            if body.shock or body.simulation:
                raise InvalidInputError("shock and simulation apply to simulated cycles only (simulate: true)")
            row = rt.service.run_cycle(product_id, as_of=body.as_of)
        return views.cycle_view(row)

    return await run_in_threadpool(run)


@router.post("/products/{product_id}/performance", responses=ok(
    {"product_id": 1, "cycle": 4, "rows": 2, "performing": 1, "defaulted": 1, "prepaid": 0, "matured": 0}), summary="Report loans' status and balance")
def report_performance(product_id: int, member: MemberDep, request: Request, rows: list[PerformanceRow]) -> dict:
    rt = runtime(request)
    product = rt.service.product(product_id) if member.has(Role.SCORER.name) else _product(
        rt, member, product_id, owner_only=True)
    with rt.service.lock(product_id):
        return record_performance(rt.service.o.engine, product, [r.model_dump() for r in rows])


@router.post("/products/{product_id}/replacements", status_code=201, responses={**ERRORS, 201: {
    "description": "accepted and recorded on chain", "content": {"application/json": {"example": {
        "id": 3, "status": "accepted", "new_root": "0xaa37...57", "chain_replacement_id": 1}}}}},
             summary="Propose substitute assets for risky ones")
async def replace(product_id: int, member: MemberDep, request: Request, body: Annotated[dict, Body(examples=[{
        "measure_id": 1, "swaps": [{"out_loan_id": "fin-7-L000000012", "in": {
            "loan_id": "sub-L1", "borrower_id": "sub-B1", "principal_minor": 1_000_000,
            "outstanding_balance_minor": 800_000, "annual_rate_bps": 650, "term_months": 36,
            "origination_date": "2025-01-15", "maturity_date": "2028-01-15", "collateral_ids": [],
            "industry": "retail", "region": "north"}}]}])],
                  idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> dict:
    rt = runtime(request)
    product = _product(rt, member, product_id, owner_only=True)

    def run() -> dict:
        with rt.service.lock(product_id):
            return views.replacement_view(propose(rt.service, product, idempotency_key or "", body))

    return await run_in_threadpool(run)


@router.get("/products", responses=ok([{"product_id": 1, "status": "measures_open", "cycles_done": 3}]), summary="Products under monitoring")
def list_products(member: MemberDep, request: Request) -> list[dict]:
    rt = runtime(request)
    out = []
    for product in rt.service.products():
        if member.has(*READERS) or (member.has(Role.FINANCIER.name) and member.name == product.financier_name):
            out.append(_status(rt, product))
    return out


def _status(rt: MonitoringRuntime, product: MonitoredProduct) -> dict:
    with Session(rt.service.o.engine) as session:
        return views.product_view(product, views.cycles(session, product.product_id),
                                  views.measures(session, product.product_id))


@router.get("/products/{product_id}", responses=ok(
    {"product_id": 1, "status": "escalated", "cycles_done": 4, "latest_cycle": CYCLE_EXAMPLE,
     "open_measures": [MEASURE_EXAMPLE]}), summary="A product's monitoring status")
def product_status(product_id: int, member: MemberDep, request: Request) -> dict:
    rt = runtime(request)
    return _status(rt, _product(rt, member, product_id))


@router.get("/products/{product_id}/cycles", responses=ok([CYCLE_EXAMPLE]), summary="Every cycle's findings")
def product_cycles(product_id: int, member: MemberDep, request: Request) -> list[dict]:
    rt = runtime(request)
    _product(rt, member, product_id)
    with Session(rt.service.o.engine) as session:
        return [views.cycle_view(c) for c in views.cycles(session, product_id)]


@router.get("/products/{product_id}/measures", responses=ok(
    {"triggers": [{"cycle": 3, "rule_id": "risky_levels"}], "measures": [MEASURE_EXAMPLE], "replacements": []}), summary="Triggers fired and measures taken")
def product_measures(product_id: int, member: MemberDep, request: Request) -> dict:
    rt = runtime(request)
    _product(rt, member, product_id)
    with Session(rt.service.o.engine) as session:
        return {
            "triggers": [{"cycle": t.cycle, "rule_id": t.rule_id, "kind": t.kind, "evidence": t.evidence,
                          "evidence_hash": t.evidence_hash, "loan_ids": t.loan_ids, "tx_hash": t.tx_hash}
                         for t in views.triggers(session, product_id)],
            "measures": [views.measure_view(m) for m in views.measures(session, product_id)],
            "replacements": [views.replacement_view(r) for r in views.replacements(session, product_id)],
        }


@router.get("/products/{product_id}/notices", responses=ok([{
    "id": 9, "channel": "sms", "recipient": "borrower:fin-7-B000000012", "kind": "repayment_reminder",
    "subject": "fin-7-L000000012", "due_on": "2027-03-02", "status": "sent", "body": {"cadence": "weekly"}}]), summary="The notice outbox of the product")
def product_notices(product_id: int, member: MemberDep, request: Request, kind: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                    offset: Annotated[int, Query(ge=0)] = 0) -> list[dict]:
    rt = runtime(request)
    product = _product(rt, member, product_id)
    if not (member.has(Role.SCORER.name, Role.AUDITOR.name) or member.name == product.financier_name):
        raise NotFoundError("notices name borrowers: only the financier, the scoring service and the auditor see them")
    with Session(rt.service.o.engine) as session:
        return views.notices(session, product_id, kind=kind, limit=limit, offset=offset)


@router.get("/products/{product_id}/proofs/{loan_id}", responses=ok(
    {"loan_id": "sub-L1", "state": "in_pool", "root": "0xaa37...57", "proof": ["0x12ab...ef"],
     "leaf": {"asset_id": "0x...", "record_hash": "0x...", "score": 81, "level": 9}}),
            summary="A loan's proof: in the pool now, or replaced out")
def product_proof(product_id: int, loan_id: str, member: MemberDep, request: Request) -> dict:
    rt = runtime(request)
    product = _product(rt, member, product_id)
    return asset_proof(rt.service, product, loan_id)


@router.get("/products/{product_id}/charts/{name}.{fmt}", responses={**ERRORS, 200: {"content": {
    "image/svg+xml": {"example": "<svg xmlns=\"http://www.w3.org/2000/svg\">...</svg>"}, "image/png": {}}}},
            response_class=Response, summary="level_mix or bad_rate over the cycles, as png or svg")
def product_chart(product_id: int, name: str, fmt: str, member: MemberDep, request: Request) -> Response:
    if name not in MONITORING_CHARTS or fmt not in FORMATS:
        raise NotFoundError(f"charts are {', '.join(MONITORING_CHARTS)} as {', '.join(FORMATS)}")
    rt = runtime(request)
    _product(rt, member, product_id)
    with Session(rt.service.o.engine) as session:
        done = [views.cycle_view(c) for c in views.cycles(session, product_id) if c.status == "done"]
    return Response(render(name, product_id, done, fmt), media_type=FORMATS[fmt])
