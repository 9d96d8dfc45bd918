"""The orchestrator's first schema: API keys, packs, assets, loan claims, per-step results, transactions.

Revision ID: 0001
Revises:
Create Date: 2025-06-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NOW = sa.func.now()
# The per-asset tables (asset, loan_claim and the step results) carry pack_id WITHOUT a foreign
# key: a foreign-key check per row made million-row COPYs five times slower, and their rows are
# only ever written in the same transaction as (or after) the pack row they belong to. For the
# same reason the asset table has no index on loan_id: loan_claim's primary key finds a live
# pack's loan, and uniqueness within a pack is checked before anything is stored.


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("member_name", sa.String(64), nullable=False, index=True),
        sa.Column("member_address", sa.String(42), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "pack",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("financier_name", sa.String(64), nullable=False, index=True),
        sa.Column("financier_address", sa.String(42), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("source_format", sa.String(8), nullable=False),
        sa.Column("asset_count", sa.Integer, nullable=False),
        sa.Column("total_balance_minor", sa.BigInteger, nullable=False),
        sa.Column("expected_bad_rate_ppm", sa.Integer, nullable=False),
        sa.Column("filter_mode", sa.String(16), nullable=False),
        sa.Column("weight_by", sa.String(16), nullable=False),
        sa.Column("step", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("progress_pct", sa.Integer, nullable=False),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("submission_key", sa.String(66), nullable=False),
        sa.Column("assets_root", sa.String(66), nullable=False),
        sa.Column("chain_pack_id", sa.Integer, nullable=True, index=True),
        sa.Column("chain_state", sa.String(32), nullable=True),
        sa.Column("model_id", sa.Integer, nullable=True),
        sa.Column("credit_batch_id", sa.Integer, nullable=True),
        sa.Column("score_batch_id", sa.Integer, nullable=True),
        sa.Column("credit_summary", sa.JSON, nullable=True),
        sa.Column("score_summary", sa.JSON, nullable=True),
        sa.Column("grade", sa.JSON, nullable=True),
        sa.Column("filter_plan", sa.JSON, nullable=True),
        sa.Column("step_seconds", sa.JSON, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("financier_name", "idempotency_key", name="uq_pack_idempotency"),
    )
    op.create_table(
        "asset",
        sa.Column("pack_id", sa.Integer, primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("borrower_id", sa.String(64), nullable=False),
        sa.Column("principal_minor", sa.BigInteger, nullable=False),
        sa.Column("outstanding_balance_minor", sa.BigInteger, nullable=False),
        sa.Column("annual_rate_bps", sa.Integer, nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("origination_date", sa.Date, nullable=False),
        sa.Column("maturity_date", sa.Date, nullable=False),
        sa.Column("collateral_ids", sa.String(1000), nullable=False),
        sa.Column("industry", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.LargeBinary(32), nullable=False),
        sa.Column("record_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(  # a live pack's loan ids, unique across packs; also the index from loan id to row
        "loan_claim",
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("pack_id", sa.Integer, nullable=False),
        sa.Column("row_no", sa.Integer, nullable=False),
    )
    op.create_table(
        "asset_credit_check",
        sa.Column("pack_id", sa.Integer, primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("eligible", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("weight_ppm", sa.Integer, nullable=False),
        sa.Column("credit_batch_id", sa.Integer, nullable=True),
        sa.Column("record_date", sa.Date, nullable=True),
        sa.Column("salted_hash", sa.LargeBinary(32), nullable=True),
    )
    op.create_table(
        "asset_score",
        sa.Column("pack_id", sa.Integer, primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("pd_ppm", sa.Integer, nullable=False),
        sa.Column("reason_codes", sa.String(400), nullable=False),
    )
    op.create_table(
        "asset_outcome",
        sa.Column("pack_id", sa.Integer, primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("removal_rank", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(120), nullable=True),
    )
    op.create_index("ix_asset_outcome_pack_outcome", "asset_outcome", ["pack_id", "outcome"])
    op.create_table(
        "chain_tx",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pack_id", sa.Integer, sa.ForeignKey("pack.id"), nullable=True, index=True),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False, unique=True),
        sa.Column("block_number", sa.Integer, nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("events", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("chain_tx", "asset_outcome", "asset_score", "asset_credit_check", "loan_claim", "asset", "pack",
                  "api_key"):
        op.drop_table(table)
