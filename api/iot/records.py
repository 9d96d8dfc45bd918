"""Small shared pieces: the clock, the action log and the refusal counters."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from api.iot.models import Action, Counter

Clock = Callable[[], float]  # seconds since the epoch, like time.time

REFUSAL_REASONS = (
    "malformed",
    "bad_signature",
    "unknown_device",
    "revoked_device",
    "replayed",
    "out_of_order",
    "timestamp_skew",
)


def now_ms(clock: Clock = time.time) -> int:
    return int(clock() * 1000)


def record_action(session: Session, kind: str, at_ms: int, **fields: Any) -> Action:
    """One step of a collateral's story (registration, warning, freeze, notice, review...)."""
    action = Action(kind=kind, at_ms=at_ms, **fields)
    session.add(action)
    return action


def add_to_counters(connection: Connection, increments: Mapping[str, int]) -> None:
    """Add to named counters in the caller's transaction (created at 0 on first use)."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for name, amount in increments.items():
        if not amount:
            continue
        statement = insert(Counter).values(name=name, value=amount)
        statement = statement.on_conflict_do_update(index_elements=["name"], set_={"value": Counter.value + amount})
        connection.execute(statement)


def read_counters(session: Session) -> dict[str, int]:
    values = {f"refused.{reason}": 0 for reason in REFUSAL_REASONS}
    values["accepted"] = 0
    values.update({row.name: row.value for row in session.exec(select(Counter)).all()})
    return values
