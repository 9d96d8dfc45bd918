"""The monitoring tables (orchestrator database; migration ``0002_monitoring``).

A product under monitoring has holdings (its pool: the kept assets at issuance, later also the
substitutes a replacement brought in), one row per cycle with the cycle's summary, every
asset's score of every cycle, the triggers that fired, the measures taken, the notices of the
outbox and the replacements. Each loan's repayment-reminder schedule lives on its holding.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, JSON, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.orchestrator.models import utcnow

LIVE, DEFAULTED, PREPAID, MATURED, REPLACED = "live", "defaulted", "prepaid", "matured", "replaced"
MONTHLY, WEEKLY = "monthly", "weekly"


class MonitoredProduct(SQLModel, table=True):
    """An issued product under monitoring, its pack, its baseline and where its cycles stand."""

    __tablename__ = "monitored_product"

    product_id: int = Field(primary_key=True)  # ProductRegistry id
    pack_id: int  # orchestrator pack id
    chain_pack_id: int
    model_id: int
    expected_bad_rate_ppm: int
    weight_by: str = Field(max_length=16)  # count | balance
    financier_name: str = Field(max_length=64)
    exchange_address: str = Field(max_length=42)
    start_date: date  # cycle k is dated start_date + k months
    cycles_done: int = 0
    status: str = Field(default="active", max_length=16)  # active | closed
    baseline: dict = Field(sa_column=Column(JSON, nullable=False))  # score bins and feature bins at issuance
    simulation: dict | None = Field(default=None, sa_column=Column(JSON))  # the synthetic world's settings
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Holding(SQLModel, table=True):
    """One loan of a product's pool: how it entered, where it stands, its reminder schedule."""

    __tablename__ = "holding"

    product_id: int = Field(primary_key=True)
    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(max_length=64, index=True)
    asset_id: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    record_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    entry_cycle: int  # 0: in the pack at issuance; k: a substitute of cycle k
    entry_score: int  # the score and level its pack-root leaf carries
    entry_level: int
    entry_pd_ppm: int
    vintage: str = Field(max_length=8)  # origination quarter, 2024Q3
    balance_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default=LIVE, max_length=16)  # live | defaulted | prepaid | matured | replaced
    status_cycle: int | None = None
    score: int  # latest cycle's
    level: int
    pd_ppm: int
    collateral_ids: str = Field(default="", max_length=1000)
    cadence: str = Field(default=MONTHLY, max_length=8)  # repayment reminders: monthly | weekly
    next_reminder: date
    last_reminder: date | None = None


class MonitoringCycle(SQLModel, table=True):
    """One cycle of one product: its date, how far it got, and what it found."""

    __tablename__ = "monitoring_cycle"

    product_id: int = Field(primary_key=True)
    cycle: int = Field(primary_key=True)
    as_of: date
    step: str = Field(default="started", max_length=16)  # started | scored | published | recorded | done
    status: str = Field(default="running", max_length=16)  # running | done | failed
    error: dict | None = Field(default=None, sa_column=Column(JSON))
    credit_batch_id: int | None = None
    score_batch_id: int | None = None
    summary: dict | None = Field(default=None, sa_column=Column(JSON))
    firings: list | None = Field(default=None, sa_column=Column(JSON))
    tx_hashes: dict | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CycleScore(SQLModel, table=True):
    """Every live asset's score in every cycle (the leaves of the cycle's score root)."""

    __tablename__ = "cycle_score"

    product_id: int = Field(primary_key=True)
    cycle: int = Field(primary_key=True)
    loan_id: str = Field(primary_key=True, max_length=64)
    score: int
    level: int
    pd_ppm: int
    credit_reason: str | None = Field(default=None, max_length=32)  # why the fresh record was not used


class MonitoringTrigger(SQLModel, table=True):
    """A trigger that fired in a cycle, with its evidence (its keccak256 is on chain)."""

    __tablename__ = "monitoring_trigger"
    __table_args__ = (UniqueConstraint("product_id", "cycle", "rule_id", name="uq_trigger_cycle_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    cycle: int
    rule_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    evidence: dict = Field(sa_column=Column(JSON, nullable=False))
    evidence_hash: str = Field(max_length=66)
    loan_ids: list = Field(sa_column=Column(JSON, nullable=False))
    tx_hash: str | None = Field(default=None, max_length=66)


class Measure(SQLModel, table=True):
    """A measure a trigger led to: weekly reminders or a replacement instruction, with its deadline."""

    __tablename__ = "measure"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    cycle: int
    kind: str = Field(max_length=32)  # weekly_reminders | replacement_instruction
    rule_id: str = Field(max_length=64)
    chain_measure_id: int | None = None
    status: str = Field(default="open", max_length=16)  # open | done | escalated | cancelled
    deadline: datetime
    subject_root: str = Field(max_length=66)
    loan_ids: list = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    tx_hashes: dict | None = Field(default=None, sa_column=Column(JSON))


class Notice(SQLModel, table=True):
    """The outbox: a notice a real SMS, e-mail or webhook adapter sends; the default adapter logs."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("kind", "recipient", "subject", "due_on", name="uq_notice_once"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    channel: str = Field(max_length=16)  # sms | email | webhook
    recipient: str = Field(max_length=128)
    kind: str = Field(max_length=32)  # repayment_reminder | replacement_instruction | escalation
    subject: str = Field(max_length=128, index=True)  # the loan id, or the measure
    due_on: date
    body: dict = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)  # pending | sent | failed
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Replacement(SQLModel, table=True):
    """A financier's proposed swap, the rule check's decision and, if accepted, its on-chain record."""

    __tablename__ = "replacement"
    __table_args__ = (UniqueConstraint("product_id", "idempotency_key", name="uq_replacement_key"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    cycle: int
    measure_id: int | None = None
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)  # accepted | refused
    decision: dict = Field(sa_column=Column(JSON, nullable=False))
    swaps: list = Field(sa_column=Column(JSON, nullable=False))  # [{out, in: loan, score, level, ...}]
    previous_root: str | None = Field(default=None, max_length=66)
    new_root: str | None = Field(default=None, max_length=66)
    out_root: str | None = Field(default=None, max_length=66)
    in_root: str | None = Field(default=None, max_length=66)
    chain_replacement_id: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)
