"""The orchestrator's tables.

A pack's assets and every step's per-asset result live in insert-only tables keyed by
``(pack_id, row_no)``: a step's result is either wholly stored (one transaction) or absent,
which is what makes the pipeline resumable, and bulk inserts of a million rows cost far less
than a million updates. ``loan_claim`` holds every loan id of a live pack once (primary key),
so a loan cannot sit in two live packs even when two submissions race.

The schema is created by the Alembic migrations in ``migrations/``; these classes mirror them.
Per-asset tables hold ``pack_id`` without a foreign key (see the first migration: it made
million-row COPYs five times slower).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, Column, Index, JSON, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ApiKey(SQLModel, table=True):
    """An API key bound to one consortium member; only its sha256 is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, max_length=64)  # a unique constraint, as the migration makes it
    member_name: str = Field(index=True, max_length=64)
    member_address: str = Field(max_length=42)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Pack(SQLModel, table=True):
    """One submitted asset pack and the summary of every pipeline step."""

    __tablename__ = "pack"
    __table_args__ = (UniqueConstraint("financier_name", "idempotency_key", name="uq_pack_idempotency"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True)  # random; the on-chain submission key derives from it
    financier_name: str = Field(index=True, max_length=64)
    financier_address: str = Field(max_length=42)
    idempotency_key: str = Field(max_length=200)
    body_sha256: str = Field(max_length=64)
    source_format: str = Field(max_length=8)  # json | csv
    asset_count: int
    total_balance_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    expected_bad_rate_ppm: int
    filter_mode: str = Field(max_length=16)  # global | per-level
    weight_by: str = Field(max_length=16)  # count | balance
    step: str = Field(default="submitted", max_length=32, index=True)  # last step whose result is stored
    status: str = Field(default="queued", max_length=16, index=True)  # queued|running|done|failed|withdrawn
    progress_pct: int = 0
    error: dict | None = Field(default=None, sa_column=Column(JSON))
    submission_key: str = Field(max_length=66)
    assets_root: str = Field(max_length=66)
    chain_pack_id: int | None = Field(default=None, index=True)
    chain_state: str | None = Field(default=None, max_length=32)
    model_id: int | None = None
    credit_batch_id: int | None = None
    score_batch_id: int | None = None
    credit_summary: dict | None = Field(default=None, sa_column=Column(JSON))
    score_summary: dict | None = Field(default=None, sa_column=Column(JSON))
    grade: dict | None = Field(default=None, sa_column=Column(JSON))
    filter_plan: dict | None = Field(default=None, sa_column=Column(JSON))
    step_seconds: dict | None = Field(default=None, sa_column=Column(JSON))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Asset(SQLModel, table=True):
    """One loan of a pack, as submitted."""

    __tablename__ = "asset"

    pack_id: int = Field(primary_key=True)
    row_no: int = Field(primary_key=True)  # 1-based position in the submission (CSV: data line)
    loan_id: str = Field(max_length=64)
    borrower_id: str = Field(max_length=64)
    principal_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    outstanding_balance_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    annual_rate_bps: int
    term_months: int
    origination_date: date
    maturity_date: date
    collateral_ids: str = Field(default="", max_length=1000)  # ';'-separated
    industry: str = Field(max_length=64)
    region: str = Field(max_length=64)
    asset_id: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))  # keccak256(loan id)
    record_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))  # keccak256(canonical loan)


class LoanClaim(SQLModel, table=True):
    """A loan id held by a live pack (one row per loan id, across all packs)."""

    __tablename__ = "loan_claim"

    loan_id: str = Field(primary_key=True, max_length=64)
    pack_id: int
    row_no: int


class AssetCreditCheck(SQLModel, table=True):
    """Step 2: whether the borrower's bureau record lets the asset be scored."""

    __tablename__ = "asset_credit_check"

    pack_id: int = Field(primary_key=True)
    row_no: int = Field(primary_key=True)
    eligible: bool
    reason: str | None = Field(default=None, max_length=32)  # no_record | failed_verification | stale ...
    weight_ppm: int = 1_000_000
    credit_batch_id: int | None = None
    record_date: date | None = None
    salted_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))


class AssetScore(SQLModel, table=True):
    """Steps 3-4: an eligible asset's score, level, PD and reason codes under one model."""

    __tablename__ = "asset_score"

    pack_id: int = Field(primary_key=True)
    row_no: int = Field(primary_key=True)
    score: int
    level: int
    pd_ppm: int
    reason_codes: str = Field(default="", max_length=400)


class AssetOutcome(SQLModel, table=True):
    """Step 5: kept, removed (with its rank in the removal order) or excluded before scoring."""

    __tablename__ = "asset_outcome"
    __table_args__ = (Index("ix_asset_outcome_pack_outcome", "pack_id", "outcome"),)

    pack_id: int = Field(primary_key=True)
    row_no: int = Field(primary_key=True)
    outcome: str = Field(max_length=16)  # kept | removed | excluded
    removal_rank: int | None = None
    reason: str | None = Field(default=None, max_length=120)


class ChainTx(SQLModel, table=True):
    """Every transaction the platform sent for a pack, and the events it emitted."""

    __tablename__ = "chain_tx"

    id: int | None = Field(default=None, primary_key=True)
    pack_id: int | None = Field(default=None, foreign_key="pack.id", index=True)
    step: str = Field(max_length=32)
    tx_hash: str = Field(max_length=66, unique=True)
    block_number: int
    sender: str = Field(max_length=42)
    events: list | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
