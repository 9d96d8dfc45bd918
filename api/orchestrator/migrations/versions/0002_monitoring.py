"""Post-issuance monitoring: monitored products, holdings, cycles, cycle scores, triggers,
measures, the notice outbox and replacements (``api.monitoring.models``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "monitored_product",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("pack_id", sa.Integer, nullable=False),
        sa.Column("chain_pack_id", sa.Integer, nullable=False),
        sa.Column("model_id", sa.Integer, nullable=False),
        sa.Column("expected_bad_rate_ppm", sa.Integer, nullable=False),
        sa.Column("weight_by", sa.String(16), nullable=False),
        sa.Column("financier_name", sa.String(64), nullable=False),
        sa.Column("exchange_address", sa.String(42), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("cycles_done", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("baseline", sa.JSON, nullable=False),
        sa.Column("simulation", sa.JSON, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("updated_at", _TS, nullable=False, server_default=_NOW),
    )
    op.create_table(
        "holding",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("borrower_id", sa.String(64), nullable=False, index=True),
        sa.Column("asset_id", sa.LargeBinary(32), nullable=False),
        sa.Column("record_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("entry_cycle", sa.Integer, nullable=False),
        sa.Column("entry_score", sa.Integer, nullable=False),
        sa.Column("entry_level", sa.Integer, nullable=False),
        sa.Column("entry_pd_ppm", sa.Integer, nullable=False),
        sa.Column("vintage", sa.String(8), nullable=False),
        sa.Column("balance_minor", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_cycle", sa.Integer, nullable=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("pd_ppm", sa.Integer, nullable=False),
        sa.Column("collateral_ids", sa.String(1000), nullable=False),
        sa.Column("cadence", sa.String(8), nullable=False),
        sa.Column("next_reminder", sa.Date, nullable=False),
        sa.Column("last_reminder", sa.Date, nullable=True),
    )
    op.create_table(
        "monitoring_cycle",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cycle", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("credit_batch_id", sa.Integer, nullable=True),
        sa.Column("score_batch_id", sa.Integer, nullable=True),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("firings", sa.JSON, nullable=True),
        sa.Column("tx_hashes", sa.JSON, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("updated_at", _TS, nullable=False, server_default=_NOW),
    )
    op.create_table(
        "cycle_score",
        sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cycle", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("pd_ppm", sa.Integer, nullable=False),
        sa.Column("credit_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "monitoring_trigger",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, nullable=False, index=True),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("evidence_hash", sa.String(66), nullable=False),
        sa.Column("loan_ids", sa.JSON, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.UniqueConstraint("product_id", "cycle", "rule_id", name="uq_trigger_cycle_rule"),
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, nullable=False, index=True),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("chain_measure_id", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadline", _TS, nullable=False),
        sa.Column("subject_root", sa.String(66), nullable=False),
        sa.Column("loan_ids", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("escalated_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("tx_hashes", sa.JSON, nullable=True),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False, index=True),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("sent_at", _TS, nullable=True),
        sa.UniqueConstraint("kind", "recipient", "subject", "due_on", name="uq_notice_once"),
    )
    op.create_table(
        "replacement",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, nullable=False, index=True),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("measure_id", sa.Integer, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("swaps", sa.JSON, nullable=False),
        sa.Column("previous_root", sa.String(66), nullable=True),
        sa.Column("new_root", sa.String(66), nullable=True),
        sa.Column("out_root", sa.String(66), nullable=True),
        sa.Column("in_root", sa.String(66), nullable=True),
        sa.Column("chain_replacement_id", sa.Integer, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.UniqueConstraint("product_id", "idempotency_key", name="uq_replacement_key"),
    )


def downgrade() -> None:
    for table in ("replacement", "notice", "measure", "monitoring_trigger", "cycle_score", "monitoring_cycle",
                  "holding", "monitored_product"):
        op.drop_table(table)
