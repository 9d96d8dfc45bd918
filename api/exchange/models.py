"""The exchange's tables, in its own database and metadata (never another service's).

Units and cash are integers of minor units. Token balances are not copied here: the chain is
the register of holdings; this database keeps what the exchange itself decided (listings,
refusals, the book, allocations, distributions) and the cash ledger, which records payments
without moving any money. Each cash movement is two entries that sum to zero.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# product.state
LISTING = "listing"  # verified, the chain writes are under way
LISTED = "listed"
# product.book_state
BOOK_OPEN = "open"
BOOK_ALLOCATING = "allocating"  # allocations decided, minting under way
BOOK_ALLOCATED = "allocated"
# subscription.status
BOOKED = "booked"
ALLOCATED = "allocated"
REJECTED = "rejected"
CANCELLED = "cancelled"
# distribution.state
PENDING = "pending"
RECORDED = "recorded"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _money() -> Column:
    return Column(BigInteger, nullable=False)


class ExchangeTable(SQLModel, registry=registry()):
    """Base of the exchange's tables: a metadata of their own."""


class ExchangeApiKey(ExchangeTable, table=True):
    """A member's key to the exchange; only its sha256 is stored. Roles come from the chain."""

    __tablename__ = "exchange_api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    member_name: str = Field(max_length=64, index=True)
    member_address: str = Field(max_length=42)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Product(ExchangeTable, table=True):
    """A listed product; ``id`` is its ProductRegistry id."""

    __tablename__ = "exchange_product"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    pack_id: int = Field(index=True)
    financier: str = Field(max_length=42)
    issuance_key: str = Field(max_length=66)
    listing_ref: str = Field(max_length=66)
    request_json: str = Field(sa_column=Column(Text, nullable=False))  # as verified, documents' content stripped
    state: str = Field(default=LISTING, max_length=16)
    book_state: str = Field(default=BOOK_OPEN, max_length=16)
    maturity: int = Field(sa_column=Column(BigInteger, nullable=False))  # unix seconds
    payments_per_year: int
    mark_issued_tx: str | None = Field(default=None, max_length=66)
    listing_tx: str | None = Field(default=None, max_length=66)
    listing_block: int = 0
    periods_recorded: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    listed_at: datetime | None = None


class Tranche(ExchangeTable, table=True):
    __tablename__ = "exchange_tranche"
    __table_args__ = (UniqueConstraint("product_id", "idx", name="uq_exchange_tranche_product_idx"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="exchange_product.id", index=True)
    idx: int
    name: str = Field(max_length=64)
    symbol: str = Field(max_length=16)
    size: int = Field(sa_column=_money())
    coupon_bps: int
    qualified_only: bool = False
    token: str | None = Field(default=None, max_length=42)
    outstanding: int = Field(sa_column=_money())
    interest_shortfall: int = Field(default=0, sa_column=_money())
    allocation_id: str | None = Field(default=None, max_length=66)
    allocation_tx: str | None = Field(default=None, max_length=66)


class Document(ExchangeTable, table=True):
    __tablename__ = "exchange_document"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="exchange_product.id", index=True)
    kind: str = Field(max_length=32)
    filename: str = Field(max_length=200)
    keccak256: str = Field(max_length=66)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class ListingAttempt(ExchangeTable, table=True):
    """Every issuance request received, listed or refused, with the reasons of a refusal."""

    __tablename__ = "exchange_listing_attempt"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(index=True)
    member_name: str = Field(max_length=64)
    outcome: str = Field(max_length=16)  # listed | refused
    reasons_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)


class Subscription(ExchangeTable, table=True):
    __tablename__ = "exchange_subscription"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="exchange_product.id", index=True)
    tranche_idx: int
    investor_name: str = Field(max_length=64)
    investor_address: str = Field(max_length=42, index=True)
    requested: int = Field(sa_column=_money())
    allocated: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(default=BOOKED, max_length=16)
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    allocated_at: datetime | None = None


class Distribution(ExchangeTable, table=True):
    __tablename__ = "exchange_distribution"
    __table_args__ = (UniqueConstraint("product_id", "period", name="uq_exchange_distribution_period"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="exchange_product.id", index=True)
    period: int
    report_json: str = Field(sa_column=Column(Text, nullable=False))
    report_hash: str = Field(max_length=66)
    state: str = Field(default=PENDING, max_length=16)
    tx_hash: str | None = Field(default=None, max_length=66)
    reported_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    recorded_at: datetime | None = None


class CashEntry(ExchangeTable, table=True):
    """One leg of a cash movement: ``amount`` > 0 is received by ``account``, < 0 paid by it."""

    __tablename__ = "exchange_cash_entry"

    id: int | None = Field(default=None, primary_key=True)
    movement: str = Field(max_length=80, index=True)
    account: str = Field(max_length=80, index=True)  # investor:0x.., financier:0x.., pool:<product>
    amount: int = Field(sa_column=_money())
    kind: str = Field(max_length=24)  # subscription | collections | interest | principal | residual
    product_id: int = Field(index=True)
    tranche_idx: int | None = None
    period: int | None = None
    units: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    subscription_id: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


METADATA = ExchangeTable.metadata
