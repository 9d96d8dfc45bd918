"""bureau: batches, records, batch trees, API keys

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString
_time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "bureau_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(length=64), nullable=False),
        sa.Column("key_hash", _text(length=64), nullable=False),
        sa.Column("scope", _text(length=8), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_api_key_key_hash", "bureau_api_key", ["key_hash"], unique=True)
    op.create_index("ix_bureau_api_key_name", "bureau_api_key", ["name"])

    op.create_table(
        "bureau_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root", _text(length=66), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", _text(length=16), nullable=False),
        sa.Column("chain_batch_id", sa.Integer(), nullable=True),
        sa.Column("tx_hash", _text(length=66), nullable=True),
        sa.Column("source", _text(length=200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("committed_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_batch_chain_batch_id", "bureau_batch", ["chain_batch_id"], unique=True)
    op.create_index("ix_bureau_batch_root", "bureau_batch", ["root"], unique=True)
    op.create_index("ix_bureau_batch_status", "bureau_batch", ["status"])

    op.create_table(
        "bureau_batch_tree",
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["batch_pk"], ["bureau_batch.id"]),
        sa.PrimaryKeyConstraint("batch_pk"),
    )

    op.create_table(
        "bureau_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("tree_index", sa.Integer(), nullable=False),
        sa.Column("borrower_id", _text(length=128), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=False),
        sa.Column("salt", _text(length=66), nullable=False),
        sa.Column("salted_hash", _text(length=66), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["batch_pk"], ["bureau_batch.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_record_batch_leaf", "bureau_record", ["batch_pk", "leaf_index"])
    op.create_index("ix_bureau_record_borrower_date", "bureau_record", ["borrower_id", "record_date"])


def downgrade() -> None:
    op.drop_table("bureau_record")
    op.drop_table("bureau_batch_tree")
    op.drop_table("bureau_batch")
    op.drop_table("bureau_api_key")
