"""The owner's second chances: resume a failed pipeline, or plan the filter again in another mode."""

from __future__ import annotations

from sqlmodel import Session

from api.errors import ConflictError, InvalidInputError
from api.orchestrator.models import Pack
from api.orchestrator.pipeline.runner import Pipeline, unreachable_error
from api.orchestrator.pipeline.stages import Stages
from api.orchestrator.pipeline.store import touch
from api.orchestrator.wiring import Orchestrator
from scoring.errors import UnreachableTargetError


def _requeue(o: Orchestrator, pack_id: int) -> Pack:
    with Session(o.engine, expire_on_commit=False) as session:
        row = session.get(Pack, pack_id)
        assert row is not None
        row.status, row.error = "queued", None
        row.lease_owner, row.lease_expires_at = None, None
        session.add(touch(row))
        session.commit()
        return row


def resume_pack(o: Orchestrator, pack: Pack) -> Pack:
    if pack.status != "failed":
        raise ConflictError(f"pack {pack.id} is {pack.status}; only a failed pack is resumed")
    return _requeue(o, pack.id)


def refilter_pack(o: Orchestrator, pack: Pack, filter_mode: str, weight_by: str) -> Pack:
    """Plan the filter of a graded pack in another mode, synchronously; 422 if still unreachable."""
    if pack.step != "graded" or pack.status != "failed":
        raise ConflictError(f"pack {pack.id} is not waiting for a filter (step {pack.step}, status {pack.status})")
    stages = Stages(Pipeline(o), pack.id, o.columns.take(pack.id))
    try:
        stages.plan_and_store(pack, filter_mode, weight_by)
    except UnreachableTargetError as exc:
        raise InvalidInputError(f"unreachable in {filter_mode} mode too: {exc}", details=unreachable_error(exc)) from None
    return _requeue(o, pack.id)
