"""The IoT service's tables (created by the Alembic migrations in ``migrations/``).

Events are insert-only; an event's ``window_id`` is set once, when its anchoring window is cut
(before the window's transaction is sent), so a restart finds every accepted event either in
a window or still pending. Times are unix milliseconds. Every step of a warning's disposal is
a row of ``iot_action``.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel


BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


def _big(**kw) -> Field:  # noqa: ANN003 - passes Field keywords through
    return Field(sa_type=BigInteger, **kw)


class Collateral(SQLModel, table=True):
    __tablename__ = "iot_collateral"

    code: str = Field(primary_key=True, max_length=64)
    chain_id: str = Field(max_length=66)
    kind: str = Field(max_length=16)  # equipment | vehicle | cold_chain
    industry: str = Field(max_length=32)
    profile: str = Field(max_length=16)  # threshold profile: industrial | retail
    description: str = Field(default="", max_length=200)
    financier: str = Field(max_length=64)
    fence: dict | None = Field(default=None, sa_column=Column(JSON))
    temp_min_mc: int | None = None
    temp_max_mc: int | None = None
    stationary: bool = False
    home: dict | None = Field(default=None, sa_column=Column(JSON))
    valuation: dict | None = Field(default=None, sa_column=Column(JSON))
    profile_hash: str = Field(max_length=66)
    tx_hash: str | None = Field(default=None, max_length=66)
    registered_at_ms: int = _big()


class Loan(SQLModel, table=True):
    __tablename__ = "iot_loan"

    loan_id: str = Field(primary_key=True, max_length=128)
    borrower_id: str = Field(max_length=128, index=True)
    credit_line_minor: int = _big()
    drawn_minor: int = _big()


class CollateralLoan(SQLModel, table=True):
    __tablename__ = "iot_collateral_loan"

    collateral_code: str = Field(primary_key=True, max_length=64)
    loan_id: str = Field(primary_key=True, max_length=128, index=True)


class Device(SQLModel, table=True):
    __tablename__ = "iot_device"

    address: str = Field(primary_key=True, max_length=42)  # lowercase 0x-hex
    collateral_code: str = Field(max_length=64, index=True)
    gateway: str = Field(max_length=64)
    label: str = Field(default="", max_length=100)
    active: bool = True
    last_seq: int = _big(default=-1)
    registered_at_ms: int = _big()
    revoked_at_ms: int | None = _big(default=None)
    tx_hash: str | None = Field(default=None, max_length=66)


class DeviceEvent(SQLModel, table=True):
    __tablename__ = "iot_event"
    __table_args__ = (
        UniqueConstraint("device", "seq", name="uq_iot_event_device_seq"),
        Index("ix_iot_event_collateral_type_ts", "collateral_code", "type", "ts_ms"),
        # partial: only events not yet in a window, so finding them never scans the history
        Index("ix_iot_event_pending", "gateway", "id", sqlite_where=text("window_id IS NULL"),
              postgresql_where=text("window_id IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    device: str = Field(max_length=42)
    seq: int = _big()
    ts_ms: int = _big()
    type: str = Field(max_length=16)
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    event_hash: str = Field(max_length=66)
    signature: str = Field(max_length=132)
    collateral_code: str = Field(max_length=64)
    gateway: str = Field(max_length=64)
    received_at_ms: int = _big()
    via: str = Field(max_length=8)
    window_id: int | None = Field(default=None, index=True)


class EventWindow(SQLModel, table=True):
    __tablename__ = "iot_window"

    id: int | None = Field(default=None, primary_key=True)
    gateway: str = Field(max_length=64)
    root: str = Field(max_length=66, unique=True)
    event_count: int
    from_ts_ms: int = _big()
    to_ts_ms: int = _big()
    status: str = Field(default="pending", max_length=16, index=True)  # pending | anchored
    chain_window_id: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)
    created_at_ms: int = _big()
    anchored_at_ms: int | None = _big(default=None)


class Counter(SQLModel, table=True):
    __tablename__ = "iot_counter"

    name: str = Field(primary_key=True, max_length=64)
    value: int = _big(default=0)


class CollateralWarning(SQLModel, table=True):
    __tablename__ = "iot_warning"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)
    collateral_code: str = Field(max_length=64, index=True)
    level: int  # 1 blue, 2 yellow, 3 red
    rule: str = Field(max_length=48)
    measure: int = _big()
    threshold: int = _big()
    unit: str = Field(max_length=8)
    observed_at_ms: int = _big()
    evidence_from_ms: int = _big()
    evidence_to_ms: int = _big()
    detail: dict | None = Field(default=None, sa_column=Column(JSON))
    evidence_hash: str = Field(max_length=66)
    status: str = Field(default="raising", max_length=16, index=True)  # raising | open | resolved
    raised_at_ms: int = _big(index=True)
    respond_by_ms: int = _big()
    responded_at_ms: int | None = _big(default=None)
    overdue_at_ms: int | None = _big(default=None)
    resolved_at_ms: int | None = _big(default=None)
    chain_warning_id: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)


class CreditFreeze(SQLModel, table=True):
    """The share of a loan's undrawn credit frozen now (history is in ``iot_action``)."""

    __tablename__ = "iot_freeze"

    loan_id: str = Field(primary_key=True, max_length=128)
    warning_id: int
    frozen_bps: int
    amount_minor: int = _big()
    status: str = Field(max_length=16)  # pending | active | lifted
    updated_at_ms: int = _big()
    tx_hash: str | None = Field(default=None, max_length=66)


class ReviewCase(SQLModel, table=True):
    __tablename__ = "iot_review"

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(index=True)
    status: str = Field(default="open", max_length=16, index=True)  # open | decided
    opened_at_ms: int = _big()
    due_at_ms: int = _big()
    outcome: str | None = Field(default=None, max_length=16)  # keep | restore | adjust
    notes: str | None = None
    reviewer: str | None = Field(default=None, max_length=100)
    new_level: int | None = None
    frozen_bps: int | None = None
    decided_at_ms: int | None = _big(default=None)
    chain_review_id: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)


class Action(SQLModel, table=True):
    __tablename__ = "iot_action"

    id: int | None = Field(default=None, primary_key=True)
    at_ms: int = _big()
    kind: str = Field(max_length=32)
    collateral_code: str | None = Field(default=None, max_length=64, index=True)
    warning_id: int | None = Field(default=None, index=True)
    review_id: int | None = None
    loan_id: str | None = Field(default=None, max_length=128)
    tx_hash: str | None = Field(default=None, max_length=66)
    detail: dict | None = Field(default=None, sa_column=Column(JSON))


class OutboxNotice(SQLModel, table=True):
    __tablename__ = "iot_outbox"

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(index=True)
    borrower_id: str = Field(max_length=128)
    kind: str = Field(max_length=16)  # reminder | freeze
    subject: str = Field(max_length=200)
    body: str
    created_at_ms: int = _big()
    sent_at_ms: int | None = _big(default=None, index=True)
    attempts: int = 0
    last_error: str | None = None
