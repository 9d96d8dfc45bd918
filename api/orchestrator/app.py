"""``create_app()``: the orchestrator API (packs, assets, reports) and its background pipeline.

Production: ``uvicorn --factory api.orchestrator.app:create_app`` with settings from the
environment. Tests: ``create_app(settings, platform=..., credit=..., models=...)`` with an
embedded chain and fakes, or a ready ``orchestrator``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from api.auth import CachedRoleSource
from api.errors import install_error_handlers
from api.monitoring.scheduler import Scheduler
from api.monitoring.wiring import MonitoringRuntime, build_monitoring
from api.orchestrator.pipeline.jobs import JobRunner
from api.orchestrator.ports import CreditSource, ModelSource
from api.orchestrator.routers import assets, me, packs, reports
from api.orchestrator.routers import monitoring as monitoring_routes
from api.orchestrator.routers import audit as audit_routes
from api.orchestrator.schemas import AssetIn, PackSubmission
from api.orchestrator.wiring import Orchestrator, bootstrap
from api.platform import Platform
from api.settings import Settings, get_settings
from chain.errors import ChainError, ContractRevertError

DESCRIPTION = """
The platform's API for asset packs (patent claims 1-6): a financier submits a pack, the pipeline
checks every borrower's credit record against the bureau's on-chain commitment, scores every
asset with the registered model, grades it into 10 risk levels, computes the pack's weighted bad
rate, filters it down to the expected bad rate and commits the result on chain. Every asset's
inclusion, removal or exclusion is then provable against the chain.

Authenticate with an API key bound to a consortium member (`Authorization: Bearer <key>` or
`X-API-Key`); the member's on-chain roles decide what it may do. Money is integer minor units;
rates are ppm (1,000,000 = 100%) unless named otherwise.
"""


def install_chain_error_handlers(app: FastAPI) -> None:
    async def handle(_request: Request, exc: ChainError) -> JSONResponse:
        status = 409 if isinstance(exc, ContractRevertError) else 502
        return JSONResponse(status_code=status, content={"error": "chain_error", "message": str(exc),
                                                         "details": {"type": type(exc).__name__}})

    app.add_exception_handler(ChainError, handle)


def create_app(
    settings: Settings | None = None,
    *,
    platform: Platform | None = None,
    credit: CreditSource | None = None,
    models: ModelSource | None = None,
    orchestrator: Orchestrator | None = None,
    run_jobs: bool = True,
    monitoring: MonitoringRuntime | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    orchestrator = orchestrator or bootstrap(settings, platform=platform, credit=credit, models=models)
    jobs = JobRunner(orchestrator, None if run_jobs else 0)
    monitoring = monitoring or build_monitoring(orchestrator)
    scheduler = Scheduler(monitoring.service, settings.monitor_interval_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs.resume_unfinished()  # packs a previous process left half-way
        scheduler.start()
        yield
        scheduler.stop()
        jobs.shutdown()

    app = FastAPI(title="ABS risk platform: orchestrator", version="1.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.orchestrator = orchestrator
    app.state.jobs = jobs
    app.state.monitoring = monitoring
    app.state.roles = CachedRoleSource(orchestrator.platform.roles)
    install_error_handlers(app)
    install_chain_error_handlers(app)
    for router in (packs.router, assets.router, reports.router, me.router, monitoring_routes.router):
        app.include_router(router)
    app.include_router(audit_routes.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema plus the JSON submission body (parsed by hand, for speed, so FastAPI
    does not see it)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (AssetIn, PackSubmission):
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            body.pop("$defs", None)
            components[model.__name__] = body
        app.openapi_schema = schema
    return app.openapi_schema
