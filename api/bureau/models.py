"""The bureau's tables, in the bureau's own database and metadata (never the orchestrator's).

A batch is written whole, in one transaction, as ``pending`` with its Merkle root before its
root is sent on chain; it becomes ``committed`` with the on-chain batch id once the commitment
is mined. Records are only ever served from committed batches. The tree of a batch (every node,
root first, as ``chain.merkle_hashing.build_node_layers`` lays it out) is kept so that proofs
are sliced from it instead of recomputed.

Hashes, roots and salts are stored as 0x-hex text: readable in any SQL console, identical in
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

PENDING = "pending"
COMMITTED = "committed"
READ_SCOPE = "read"
WRITE_SCOPE = "write"  # may also read


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BureauTable(SQLModel, registry=registry()):
    """Base of the bureau's tables: a metadata of their own, so no other service's tables mix in."""


class CreditBatch(BureauTable, table=True):
    __tablename__ = "bureau_batch"

    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(max_length=66, unique=True, index=True)
    record_count: int
    as_of: date
    status: str = Field(default=PENDING, max_length=16, index=True)
    chain_batch_id: int | None = Field(default=None, unique=True, index=True)
    tx_hash: str | None = Field(default=None, max_length=66)
    source: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    committed_at: datetime | None = None


class CreditRecord(BureauTable, table=True):
    __tablename__ = "bureau_record"
    __table_args__ = (
        Index("ix_bureau_record_borrower_date", "borrower_id", "record_date"),
        Index("ix_bureau_record_batch_leaf", "batch_pk", "leaf_index"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    batch_pk: int = Field(sa_column=Column(Integer, ForeignKey("bureau_batch.id"), nullable=False))
    leaf_index: int  # position in the batch as ingested (the order of the tree's values)
    tree_index: int  # node position of its leaf in the array-backed tree
    borrower_id: str = Field(max_length=128)
    record_date: date
    salt: str = Field(max_length=66)
    salted_hash: str = Field(max_length=66)
    record_json: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON, exactly as hashed


class CreditBatchTree(BureauTable, table=True):
    __tablename__ = "bureau_batch_tree"

    batch_pk: int = Field(sa_column=Column(Integer, ForeignKey("bureau_batch.id"), primary_key=True))
    nodes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class BureauApiKey(BureauTable, table=True):
    """A consortium member's key to the bureau; only its sha256 is stored."""

    __tablename__ = "bureau_api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    scope: str = Field(default=READ_SCOPE, max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


METADATA = BureauTable.metadata
