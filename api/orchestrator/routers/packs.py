"""Pack routes: submit (JSON or streamed CSV), list, read, and the owner's resume / re-filter / withdraw."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func
from sqlmodel import select

from api.auth import Member, require_any_role
from api.errors import ConflictError, InvalidInputError, PayloadTooLargeError
from api.orchestrator.access import readable, require_owner, require_readable
from api.orchestrator.deps import JobsDep, MemberDep, OrchestratorDep, SessionDep
from api.orchestrator.models import Pack
from api.orchestrator.pipeline.refilter import refilter_pack, resume_pack
from api.orchestrator.schemas import ErrorBody, FilterRequest, PackList, PackView
from api.orchestrator.submission.parse import json_columns, read_csv
from api.orchestrator.submission.service import Submission, pack_options, submit_pack, withdraw_pack
from api.orchestrator.views import pack_view
from api.orchestrator.wiring import Orchestrator
from chain.roles import Role

router = APIRouter(prefix="/v1/packs", tags=["packs"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no or unknown API key"},
    403: {"model": ErrorBody, "description": "the member lacks the role"},
    404: {"model": ErrorBody, "description": "no such pack visible to the member"},
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": PackView, "description": "the same Idempotency-Key and body were submitted before: that pack"},
    409: {"model": ErrorBody, "description": "the Idempotency-Key was used with a different body"},
    413: {"model": ErrorBody, "description": "more assets or bytes than a pack may hold"},
    422: {"model": ErrorBody, "description": "refused: row-level problems (first N listed, all counted); "
                                             "nothing was stored"},
}
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="required; 1-200 characters; "
                                              "retrying with the same key and body returns the same pack")]
CSV_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}, "example":
                 "loan_id,borrower_id,principal_minor,outstanding_balance_minor,annual_rate_bps,term_months,"
                 "origination_date,maturity_date,collateral_ids,industry,region\n"
                 "FIN-2025-000001,B-88213,5000000,3750000,725,36,2024-03-15,2027-03-15,VEH-7781,logistics,east\n"},
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string",
                                                                                 "format": "binary"}}}},
}}}
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/PackSubmission"}}}}}


def _accepted(response: Response, pack: Pack, created: bool) -> PackView:
    response.status_code = 202 if created else 200
    response.headers["Location"] = f"/v1/packs/{pack.id}"
    return pack_view(pack)


async def _spool(request: Request, limit: int) -> tuple[Path, str]:
    """The upload streamed to a temporary file (never held in memory), and its sha256."""
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(prefix="pack-", suffix=".csv", delete=False)
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_part_size=limit)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInputError("a multipart upload needs the CSV in a part named 'file'")
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(f"the upload exceeds {limit} bytes")
                digest.update(chunk)
                handle.write(chunk)
        else:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(f"the upload exceeds {limit} bytes")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        handle.close()
        Path(handle.name).unlink(missing_ok=True)
        raise
    handle.close()
    return Path(handle.name), digest.hexdigest()


def _submit(o: Orchestrator, jobs: JobsDep, member: Member, key: str | None, submission: Submission) -> tuple[Pack, bool]:
    pack, created = submit_pack(o, member, key or "", submission, early_credit=jobs.enabled)
    if created:
        jobs.enqueue(pack.id)
    return pack, created


@router.post("", response_model=PackView, status_code=202, responses=SUBMIT_ERRORS, openapi_extra=JSON_BODY,
             summary="Submit a pack as JSON")
async def submit_json(request: Request, response: Response, o: OrchestratorDep, jobs: JobsDep, member: MemberDep,
                      idempotency_key: IdempotencyKey = None) -> PackView:
    """Validate every asset, store the pack and start its pipeline (202). Requires FINANCIER."""
    require_any_role(member, Role.FINANCIER.name)
    raw = await request.body()
    if len(raw) > o.settings.max_upload_bytes:
        raise PayloadTooLargeError(f"the body exceeds {o.settings.max_upload_bytes} bytes")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise InvalidInputError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInputError("the body must be a JSON object with 'assets' (see the schema)")
    unknown = set(body) - {"expected_bad_rate", "expected_bad_rate_ppm", "filter_mode", "weight_by", "assets"}
    if unknown:
        raise InvalidInputError(f"unknown fields {sorted(unknown)}")
    options = pack_options(o.settings, expected_bad_rate=body.get("expected_bad_rate"),
                           expected_bad_rate_ppm=body.get("expected_bad_rate_ppm"),
                           filter_mode=body.get("filter_mode", "global"), weight_by=body.get("weight_by", "balance"))
    assets = body.get("assets")
    submission = Submission("json", hashlib.sha256(raw).hexdigest(), options,
                            lambda problems, limit: json_columns(assets, problems, limit))
    pack, created = await run_in_threadpool(_submit, o, jobs, member, idempotency_key, submission)
    return _accepted(response, pack, created)


@router.post("/csv", response_model=PackView, status_code=202, responses=SUBMIT_ERRORS, openapi_extra=CSV_BODY,
             summary="Upload a pack as CSV (streamed; up to 1,000,000 assets)")
async def submit_csv(
    request: Request, response: Response, o: OrchestratorDep, jobs: JobsDep, member: MemberDep,
    idempotency_key: IdempotencyKey = None,
    expected_bad_rate: Annotated[str | None, Query(description="fraction, e.g. 0.05; default: the platform's")] = None,
    filter_mode: Annotated[str, Query(description="global | per-level")] = "global",
    weight_by: Annotated[str, Query(description="balance | count")] = "balance",
) -> PackView:
    """The body is the CSV itself (``text/csv``) or a multipart part named ``file``; it is streamed to disk,
    then validated column by column. Requires FINANCIER."""
    require_any_role(member, Role.FINANCIER.name)
    options = pack_options(o.settings, expected_bad_rate=expected_bad_rate, filter_mode=filter_mode,
                           weight_by=weight_by)
    path, sha256 = await _spool(request, o.settings.max_upload_bytes)
    try:
        submission = Submission("csv", sha256, options, lambda problems, limit: read_csv(path, problems, limit))
        pack, created = await run_in_threadpool(_submit, o, jobs, member, idempotency_key, submission)
    finally:
        path.unlink(missing_ok=True)
    return _accepted(response, pack, created)


@router.get("", response_model=PackList, responses=ERRORS, summary="List the packs visible to the caller")
def list_packs(session: SessionDep, member: MemberDep,
               status: Annotated[str | None, Query(description="queued|running|done|failed|withdrawn")] = None,
               offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> PackList:
    """A financier lists its own packs; the auditor and the scoring service list all."""
    condition = readable(member)
    if status:
        condition = condition & (Pack.status == status)
    total = session.exec(select(func.count()).select_from(Pack).where(condition)).one()
    packs = session.exec(select(Pack).where(condition).order_by(Pack.id.desc()).offset(offset).limit(limit)).all()
    return PackList(packs=[pack_view(pack) for pack in packs], total=total)


@router.get("/{pack_id}", response_model=PackView, responses=ERRORS, summary="A pack, its step and percent done")
def get_pack(pack_id: int, session: SessionDep, member: MemberDep) -> PackView:
    return pack_view(require_readable(member, session.get(Pack, pack_id), pack_id))


@router.post("/{pack_id}/resume", response_model=PackView, status_code=202,
             responses={**ERRORS, 409: {"model": ErrorBody, "description": "the pack is not failed"}},
             summary="Run a failed pack's pipeline again from its last stored step")
def resume(pack_id: int, session: SessionDep, o: OrchestratorDep, jobs: JobsDep, member: MemberDep) -> PackView:
    pack = require_owner(member, session.get(Pack, pack_id), pack_id)
    pack = resume_pack(o, pack)
    jobs.enqueue(pack.id)
    return pack_view(pack)


@router.post("/{pack_id}/filter", response_model=PackView, status_code=202,
             responses={**ERRORS, 409: {"model": ErrorBody, "description": "the pack is not waiting for a filter"},
                        422: {"model": ErrorBody, "description": "the target is unreachable in this mode: the "
                                                                 "details give the best achievable bad rate"}},
             summary="Plan the filter again with another mode (after an unreachable target)")
def refilter(pack_id: int, body: FilterRequest, session: SessionDep, o: OrchestratorDep, jobs: JobsDep,
             member: MemberDep) -> PackView:
    """Synchronous: answers 422 with the best achievable bad rate if this mode cannot reach the target
    either; otherwise stores the new plan and lets the pipeline record and commit it."""
    pack = require_owner(member, session.get(Pack, pack_id), pack_id)
    pack = refilter_pack(o, pack, body.filter_mode, body.weight_by or pack.weight_by)
    jobs.enqueue(pack.id)
    return pack_view(pack)


@router.post("/{pack_id}/withdraw", response_model=PackView,
             responses={**ERRORS, 409: {"model": ErrorBody, "description": "committed or running"}},
             summary="Withdraw a pack that is not committed, freeing its loan ids")
def withdraw(pack_id: int, session: SessionDep, o: OrchestratorDep, member: MemberDep) -> PackView:
    pack = require_owner(member, session.get(Pack, pack_id), pack_id)
    if pack.status == "done":
        raise ConflictError(f"pack {pack_id} is committed")
    return pack_view(withdraw_pack(o, pack))
