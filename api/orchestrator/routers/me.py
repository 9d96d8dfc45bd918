"""Who the API key belongs to, and the service's health."""

from __future__ import annotations

from fastapi import APIRouter

from api.orchestrator.deps import MemberDep, OrchestratorDep
from api.orchestrator.routers.packs import ERRORS
from api.orchestrator.schemas import MemberView

router = APIRouter(prefix="/v1", tags=["members"])


@router.get("/me", response_model=MemberView, responses=ERRORS, summary="The member the API key is bound to")
def me(member: MemberDep) -> MemberView:
    """Roles as the MemberRegistry reports them now (cached for a few seconds)."""
    return MemberView(name=member.name, address=member.address, roles=sorted(member.roles))


@router.get("/health", summary="Liveness: the database answers",
            responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
def health(o: OrchestratorDep) -> dict:
    with o.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return {"status": "ok"}
