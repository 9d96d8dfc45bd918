"""Which process runs a pack's pipeline: a lease in the pack row, renewed as the pipeline goes.

A worker claims a pack that is queued, or running under a lease that has expired (its holder
is presumed dead: a crash test kills it). Claims are one conditional UPDATE, so two workers can
never both hold a pack.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, true, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.orchestrator.models import Pack, utcnow

RUNNABLE = ("queued", "running")


def claim(engine: Engine, pack_id: int, worker: str, seconds: float, *, steal: bool = False) -> bool:
    now = utcnow()
    free = or_(Pack.lease_owner.is_(None), Pack.lease_owner == worker, Pack.lease_expires_at < now)
    condition = and_(Pack.id == pack_id, Pack.status.in_(RUNNABLE), true() if steal else free)
    with Session(engine) as session:
        result = session.exec(
            update(Pack).where(condition).values(
                lease_owner=worker, lease_expires_at=now + timedelta(seconds=seconds), status="running",
                updated_at=now,
            )
        )
        session.commit()
        return result.rowcount == 1


def renew(session: Session, pack: Pack, worker: str, seconds: float) -> None:
    pack.lease_owner = worker
    pack.lease_expires_at = utcnow() + timedelta(seconds=seconds)


def release(engine: Engine, pack_id: int, worker: str) -> None:
    with Session(engine) as session:
        session.exec(update(Pack).where(Pack.id == pack_id, Pack.lease_owner == worker)
                     .values(lease_owner=None, lease_expires_at=None))
        session.commit()


def runnable_packs(engine: Engine) -> list[int]:
    """Packs waiting for a worker: queued, or running under an expired lease."""
    now = utcnow()
    with Session(engine) as session:
        rows = session.exec(
            select(Pack.id).where(Pack.status.in_(RUNNABLE),
                                  or_(Pack.lease_owner.is_(None), Pack.lease_expires_at < now))
            .order_by(Pack.id)
        ).all()
    return [int(pack_id) for pack_id in rows]
