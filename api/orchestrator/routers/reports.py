"""A pack's report: JSON, HTML with its charts (PNG, SVG), and CSV exports."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.errors import ConflictError
from api.orchestrator.access import require_readable
from api.orchestrator.deps import MemberDep, OrchestratorDep, SessionDep
from api.orchestrator.models import Pack
from api.orchestrator.reports.charts import FORMATS, render
from api.orchestrator.reports.export import export_rows
from api.orchestrator.reports.html import render_html
from api.orchestrator.reports.report import build_report
from api.orchestrator.routers.packs import ERRORS
from api.orchestrator.schemas import ErrorBody

router = APIRouter(prefix="/v1/packs/{pack_id}", tags=["reports"])
NOT_YET = {**ERRORS, 409: {"model": ErrorBody, "description": "the pack is not filtered yet"}}
REPORT_EXAMPLE = {"pack": {"id": 12}, "filter": {"mode": "global", "removed_count": 1210, "curve": ["…"]},
                  "commitment": {"kept_root": "0x8e…", "bad_rate_after_ppm": 49870}, "links": {"html": "…"}}


def _report(request: Request, session: SessionDep, member: MemberDep, pack_id: int) -> dict:
    pack = require_readable(member, session.get(Pack, pack_id), pack_id)
    return build_report(session, pack, str(request.base_url).rstrip("/"))


@router.get("/report", responses={**NOT_YET, 200: {"content": {"application/json": {"example": REPORT_EXAMPLE}}}},
            summary="The pack's report as JSON")
def report_json(pack_id: int, request: Request, session: SessionDep, member: MemberDep) -> dict:
    """Credit check, grade (level mix by count and balance), both bad-rate estimates before and after,
    the filter's curve and level mix, the on-chain commitment, removed and excluded assets with reasons."""
    return _report(request, session, member, pack_id)


@router.get("/report.html", response_class=HTMLResponse, responses={
    **NOT_YET, 200: {"content": {"text/html": {"example": "<!doctype html>…"}}}}, summary="The report as HTML")
def report_html(pack_id: int, request: Request, session: SessionDep, member: MemberDep) -> HTMLResponse:
    return HTMLResponse(render_html(_report(request, session, member, pack_id)))


@router.get("/charts/{name}.{fmt}", responses={**NOT_YET, 200: {"content": {
    "image/png": {"example": "(binary)"}, "image/svg+xml": {"example": "<svg …>"}}}},
    summary="A chart of the report: bad_rate_curve, level_mix or removals, as png or svg")
def chart(pack_id: int, name: Literal["bad_rate_curve", "level_mix", "removals"], fmt: Literal["png", "svg"],
          request: Request, session: SessionDep, member: MemberDep) -> Response:
    return Response(render(name, _report(request, session, member, pack_id), fmt), media_type=FORMATS[fmt])


@router.get("/export/{outcome}.csv", response_class=StreamingResponse, responses={
    **NOT_YET, 200: {"content": {"text/csv": {"example": "row,loan_id,borrower_id,outstanding_balance_minor,score,"
                                                         "level,pd_ppm,outcome,removal_rank,reason,asset_id,"
                                                         "record_hash\n"}}}},
    summary="The kept, removed or excluded assets as CSV")
def export(pack_id: int, outcome: Literal["kept", "removed", "excluded"], o: OrchestratorDep, session: SessionDep,
           member: MemberDep) -> StreamingResponse:
    pack = require_readable(member, session.get(Pack, pack_id), pack_id)
    if pack.filter_plan is None:
        raise ConflictError(f"pack {pack_id} is not filtered yet (step {pack.step})")
    return StreamingResponse(export_rows(o.engine, pack_id, outcome), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="pack-{pack_id}-{outcome}.csv"'})
