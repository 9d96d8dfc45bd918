"""The IoT service's first schema: collaterals, loans, devices, events, windows, counters,
warnings, freezes, reviews, the action log and the notice outbox.

Revision ID: 0001
Revises:
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('iot_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('collateral_code', sa.String(64), nullable=True),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('loan_id', sa.String(128), nullable=True),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_iot_action_collateral_code'), 'iot_action', ['collateral_code'], unique=False)
    op.create_index(op.f('ix_iot_action_warning_id'), 'iot_action', ['warning_id'], unique=False)
    op.create_table('iot_collateral',
    sa.Column('code', sa.String(64), nullable=False),
    sa.Column('chain_id', sa.String(66), nullable=False),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('industry', sa.String(32), nullable=False),
    sa.Column('profile', sa.String(16), nullable=False),
    sa.Column('description', sa.String(200), nullable=False),
    sa.Column('financier', sa.String(64), nullable=False),
    sa.Column('fence', sa.JSON(), nullable=True),
    sa.Column('temp_min_mc', sa.Integer(), nullable=True),
    sa.Column('temp_max_mc', sa.Integer(), nullable=True),
    sa.Column('stationary', sa.Boolean(), nullable=False),
    sa.Column('home', sa.JSON(), nullable=True),
    sa.Column('valuation', sa.JSON(), nullable=True),
    sa.Column('profile_hash', sa.String(66), nullable=False),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.Column('registered_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('iot_collateral_loan',
    sa.Column('collateral_code', sa.String(64), nullable=False),
    sa.Column('loan_id', sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint('collateral_code', 'loan_id')
    )
    op.create_index(op.f('ix_iot_collateral_loan_loan_id'), 'iot_collateral_loan', ['loan_id'], unique=False)
    op.create_table('iot_counter',
    sa.Column('name', sa.String(64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('iot_device',
    sa.Column('address', sa.String(42), nullable=False),
    sa.Column('collateral_code', sa.String(64), nullable=False),
    sa.Column('gateway', sa.String(64), nullable=False),
    sa.Column('label', sa.String(100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('registered_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.PrimaryKeyConstraint('address')
    )
    op.create_index(op.f('ix_iot_device_collateral_code'), 'iot_device', ['collateral_code'], unique=False)
    op.create_table('iot_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('device', sa.String(42), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('event_hash', sa.String(66), nullable=False),
    sa.Column('signature', sa.String(132), nullable=False),
    sa.Column('collateral_code', sa.String(64), nullable=False),
    sa.Column('gateway', sa.String(64), nullable=False),
    sa.Column('received_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('via', sa.String(8), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device', 'seq', name='uq_iot_event_device_seq')
    )
    op.create_index('ix_iot_event_collateral_type_ts', 'iot_event', ['collateral_code', 'type', 'ts_ms'], unique=False)
    op.create_index('ix_iot_event_pending', 'iot_event', ['gateway', 'id'], unique=False,
                    sqlite_where=sa.text('window_id IS NULL'), postgresql_where=sa.text('window_id IS NULL'))
    op.create_index(op.f('ix_iot_event_window_id'), 'iot_event', ['window_id'], unique=False)
    op.create_table('iot_freeze',
    sa.Column('loan_id', sa.String(128), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('frozen_bps', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.PrimaryKeyConstraint('loan_id')
    )
    op.create_table('iot_loan',
    sa.Column('loan_id', sa.String(128), nullable=False),
    sa.Column('borrower_id', sa.String(128), nullable=False),
    sa.Column('credit_line_minor', sa.BigInteger(), nullable=False),
    sa.Column('drawn_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('loan_id')
    )
    op.create_index(op.f('ix_iot_loan_borrower_id'), 'iot_loan', ['borrower_id'], unique=False)
    op.create_table('iot_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.String(128), nullable=False),
    sa.Column('kind', sa.String(16), nullable=False),
    sa.Column('subject', sa.String(200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('sent_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_iot_outbox_sent_at_ms'), 'iot_outbox', ['sent_at_ms'], unique=False)
    op.create_index(op.f('ix_iot_outbox_warning_id'), 'iot_outbox', ['warning_id'], unique=False)
    op.create_table('iot_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('opened_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('due_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(16), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reviewer', sa.String(100), nullable=True),
    sa.Column('new_level', sa.Integer(), nullable=True),
    sa.Column('frozen_bps', sa.Integer(), nullable=True),
    sa.Column('decided_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('chain_review_id', sa.Integer(), nullable=True),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_iot_review_status'), 'iot_review', ['status'], unique=False)
    op.create_index(op.f('ix_iot_review_warning_id'), 'iot_review', ['warning_id'], unique=False)
    op.create_table('iot_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(32), nullable=False),
    sa.Column('collateral_code', sa.String(64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(48), nullable=False),
    sa.Column('measure', sa.BigInteger(), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(8), nullable=False),
    sa.Column('observed_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('evidence_from_ms', sa.BigInteger(), nullable=False),
    sa.Column('evidence_to_ms', sa.BigInteger(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('evidence_hash', sa.String(66), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('raised_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('respond_by_ms', sa.BigInteger(), nullable=False),
    sa.Column('responded_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('overdue_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('resolved_at_ms', sa.BigInteger(), nullable=True),
    sa.Column('chain_warning_id', sa.Integer(), nullable=True),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    op.create_index(op.f('ix_iot_warning_collateral_code'), 'iot_warning', ['collateral_code'], unique=False)
    op.create_index(op.f('ix_iot_warning_raised_at_ms'), 'iot_warning', ['raised_at_ms'], unique=False)
    op.create_index(op.f('ix_iot_warning_status'), 'iot_warning', ['status'], unique=False)
    op.create_table('iot_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(64), nullable=False),
    sa.Column('root', sa.String(66), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('from_ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('to_ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(16), nullable=False),
    sa.Column('chain_window_id', sa.Integer(), nullable=True),
    sa.Column('tx_hash', sa.String(66), nullable=True),
    sa.Column('created_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('anchored_at_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('root')
    )
    op.create_index(op.f('ix_iot_window_status'), 'iot_window', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('iot_window')
    op.drop_table('iot_warning')
    op.drop_table('iot_review')
    op.drop_table('iot_outbox')
    op.drop_table('iot_loan')
    op.drop_table('iot_freeze')
    op.drop_table('iot_event')
    op.drop_table('iot_device')
    op.drop_table('iot_counter')
    op.drop_table('iot_collateral_loan')
    op.drop_table('iot_collateral')
    op.drop_table('iot_action')
