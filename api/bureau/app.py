"""The credit bureau's HTTP service (the patent's credit-investigation system).

Routes are thin: they authenticate the caller's bureau API key, call ``BureauService`` and
return its answer; domain errors become HTTP errors in ``api.errors``' one handler. Large
answers (bulk look-ups, a batch's leaves) are serialised directly, not through response
models, because they may hold 100,000 records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.bureau.anchor import CreditAnchor
from api.bureau.bootstrap import build_service
from api.bureau.gc_pause import gc_paused
from api.bureau.intake import frame_from_csv, parse_json_body
from api.bureau.keys import authenticate
from api.bureau.models import READ_SCOPE, WRITE_SCOPE, BureauApiKey
from api.bureau.service import BureauService
from api.bureau.settings import BureauSettings, get_bureau_settings
from api.errors import InvalidInputError, PlatformError, install_error_handlers
from api.platform import Platform

log = logging.getLogger(__name__)
CSV_LINE_OFFSET = 2  # row 0 of the records is line 2 of a CSV file (after the header)


def get_service(request: Request) -> BureauService:
    return request.app.state.bureau


ServiceDep = Annotated[BureauService, Depends(get_service)]


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return request.headers.get("x-api-key")


def reader(request: Request, service: ServiceDep) -> BureauApiKey:
    return authenticate(service.engine, _presented_key(request), READ_SCOPE)


def writer(request: Request, service: ServiceDep) -> BureauApiKey:
    return authenticate(service.engine, _presented_key(request), WRITE_SCOPE)


ReaderDep = Annotated[BureauApiKey, Depends(reader)]
WriterDep = Annotated[BureauApiKey, Depends(writer)]


class LookupRequest(BaseModel):
    borrower_ids: list[str] = Field(description="at most max_lookup_ids (100,000 by default) per call")
    proofs: bool = Field(default=True, description="include each record's Merkle proof")
    layout: Literal["records", "columns"] = Field(
        default="records", description="'records': a list of objects; 'columns': one list per field (bulk clients)")


class ProofsRequest(BaseModel):
    salted_hashes: list[str] = Field(description="0x-hex leaf values to prove; a value not in the batch gets null")


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status_code,
                    media_type="application/json")


records = APIRouter(prefix="/v1/records", tags=["records"])
batches = APIRouter(prefix="/v1/batches", tags=["batches"])
health = APIRouter(tags=["health"])


@health.get("/v1/health")
def get_health(service: ServiceDep) -> dict:
    return {"status": "ok", "pending_batches": service.pending_count()}


@records.get("/{borrower_id:path}")
def get_record(borrower_id: str, service: ServiceDep, _key: ReaderDep) -> Response:
    """The borrower's latest committed record, salt, salted hash, proof, batch root and id, as-of date."""
    return _json(service.record(borrower_id).to_dict(with_record=True))


@records.post("/lookup")
def lookup_records(request: LookupRequest, service: ServiceDep, _key: ReaderDep) -> Response:
    """Latest committed records of many borrowers; unknown borrowers are listed under ``missing``."""
    with gc_paused():
        if request.layout == "columns":
            found = service.lookup_columns(request.borrower_ids, proofs=request.proofs)
            known = set(found.borrower_id)
            missing = [borrower for borrower in dict.fromkeys(request.borrower_ids) if borrower not in known]
            return _json({"columns": found.to_wire(), "missing": missing})
        entries, missing = service.lookup(request.borrower_ids, proofs=request.proofs)
        return _json({"records": [entry.to_dict() for entry in entries.values()], "missing": missing})


@batches.post("", status_code=201)
async def ingest_batch(request: Request, service: ServiceDep, key: WriterDep,
                       as_of: Annotated[dt.date | None, Query(description="batch as-of date (CSV)")] = None) -> Response:
    """Ingest a batch (JSON list or ``{"records", "as_of"}``, or ``text/csv``) and commit it on chain."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    source = f"api:{key.name}"
    if content_type in ("text/csv", "application/csv"):
        frame = await run_in_threadpool(frame_from_csv, raw)
        info = await run_in_threadpool(
            lambda: service.ingest(frame, as_of=as_of, source=source, line_offset=CSV_LINE_OFFSET))
    elif content_type == "application/json":
        frame, body_as_of = await run_in_threadpool(parse_json_body, raw)
        info = await run_in_threadpool(lambda: service.ingest(frame, as_of=as_of or body_as_of, source=source))
    else:
        raise InvalidInputError(f"send application/json or text/csv, not {content_type!r}")
    return _json(info.to_dict(), status_code=201)


@batches.post("/resume")
def resume_batches(service: ServiceDep, _key: WriterDep) -> Response:
    """Commit every pending batch (the chain was down, or the service crashed mid-commit)."""
    return _json({"batches": [info.to_dict() for info in service.resume_pending()]})


@batches.get("")
def list_batches(service: ServiceDep, _key: ReaderDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    return _json({"batches": [info.to_dict() for info in service.batches(limit, offset)]})


@batches.get("/{batch_id}")
def get_batch(batch_id: int, service: ServiceDep, _key: ReaderDep) -> Response:
    return _json(service.batch(batch_id).to_dict())


@batches.get("/{batch_id}/leaves")
def get_batch_leaves(batch_id: int, service: ServiceDep, _key: ReaderDep) -> Response:
    """The batch's salted hashes, 32 raw bytes each in leaf order: rebuild the tree, compare roots."""
    info, leaves = service.leaves(batch_id)
    return Response(leaves, media_type="application/octet-stream",
                    headers={"X-Batch-Root": info.root, "X-Record-Count": str(info.record_count)})


@batches.post("/{batch_id}/proofs")
def get_batch_proofs(batch_id: int, request: ProofsRequest, service: ServiceDep, _key: ReaderDep) -> Response:
    proofs = service.proofs(batch_id, request.salted_hashes)
    return _json({"batch_id": batch_id, "proofs": proofs})


def create_app(settings: BureauSettings | None = None, platform: Platform | None = None, *,
               anchor: CreditAnchor | None = None, service: BureauService | None = None) -> FastAPI:
    """The bureau app on its own database; pass ``anchor`` or ``platform`` to choose the chain."""
    settings = settings or get_bureau_settings()
    service = service or build_service(settings, platform, anchor=anchor)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.resume_on_startup:
            try:
                finished = await run_in_threadpool(service.resume_pending)
                if finished:
                    log.info("committed %d pending credit batch(es) left by an earlier run", len(finished))
            except PlatformError as exc:  # the chain may be down: serve anyway, resume later
                log.warning("pending credit batches stay pending: %s", exc.message)
        yield

    app = FastAPI(title="ABS credit bureau", version="1", lifespan=lifespan,
                  description="Borrower credit records, committed on chain as salted-hash Merkle roots.")
    app.state.bureau = service
    install_error_handlers(app)
    for router in (health, records, batches):
        app.include_router(router)
    return app
