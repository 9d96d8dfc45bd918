"""The dependencies routes declare: the orchestrator, a database session and the calling member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from api.auth import CachedRoleSource, Member, authenticate
from api.orchestrator.pipeline.jobs import JobRunner
from api.orchestrator.wiring import Orchestrator


def get_orchestrator(request: Request) -> Orchestrator:
    return request.app.state.orchestrator


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def get_roles(request: Request) -> CachedRoleSource:
    return request.app.state.roles


OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]


def get_session(orchestrator: OrchestratorDep) -> Iterator[Session]:
    with Session(orchestrator.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_member(
    session: SessionDep,
    roles: Annotated[CachedRoleSource, Depends(get_roles)],
    authorization: Annotated[str | None, Header(description="'Bearer <API key>'")] = None,
    x_api_key: Annotated[str | None, Header(description="the API key (instead of Authorization)")] = None,
) -> Member:
    api_key = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        api_key = authorization[7:].strip()
    return authenticate(session, api_key, roles)


MemberDep = Annotated[Member, Depends(get_member)]
