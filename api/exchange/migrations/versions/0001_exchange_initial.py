"""exchange: products, tranches, documents, listing attempts, the book, distributions, the cash
ledger and API keys

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_api_key_key_hash'), ['key_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_exchange_api_key_member_name'), ['member_name'], unique=False)

    op.create_table('exchange_cash_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('movement', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('tranche_idx', sa.Integer(), nullable=True),
    sa.Column('period', sa.Integer(), nullable=True),
    sa.Column('units', sa.BigInteger(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('tx_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_cash_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_cash_entry_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_cash_entry_movement'), ['movement'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_cash_entry_product_id'), ['product_id'], unique=False)

    op.create_table('exchange_listing_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('member_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reasons_json', sa.Text(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_listing_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_listing_attempt_product_id'), ['product_id'], unique=False)

    op.create_table('exchange_product',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('financier', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('issuance_key', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('listing_ref', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('request_json', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('book_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('maturity', sa.BigInteger(), nullable=False),
    sa.Column('payments_per_year', sa.Integer(), nullable=False),
    sa.Column('mark_issued_tx', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('listing_tx', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('listing_block', sa.Integer(), nullable=False),
    sa.Column('periods_recorded', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('listed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_product_pack_id'), ['pack_id'], unique=False)

    op.create_table('exchange_distribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.Column('report_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('tx_hash', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('reported_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['exchange_product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('product_id', 'period', name='uq_exchange_distribution_period')
    )
    with op.batch_alter_table('exchange_distribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_distribution_product_id'), ['product_id'], unique=False)

    op.create_table('exchange_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('keccak256', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['exchange_product.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_document_product_id'), ['product_id'], unique=False)

    op.create_table('exchange_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('tranche_idx', sa.Integer(), nullable=False),
    sa.Column('investor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('investor_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('requested', sa.BigInteger(), nullable=False),
    sa.Column('allocated', sa.BigInteger(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('allocated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['exchange_product.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_subscription_investor_address'), ['investor_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_subscription_product_id'), ['product_id'], unique=False)

    op.create_table('exchange_tranche',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('coupon_bps', sa.Integer(), nullable=False),
    sa.Column('qualified_only', sa.Boolean(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('interest_shortfall', sa.BigInteger(), nullable=False),
    sa.Column('allocation_id', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.Column('allocation_tx', sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['exchange_product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('product_id', 'idx', name='uq_exchange_tranche_product_idx')
    )
    with op.batch_alter_table('exchange_tranche', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_tranche_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('exchange_tranche', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_tranche_product_id'))

    op.drop_table('exchange_tranche')
    with op.batch_alter_table('exchange_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_subscription_product_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_subscription_investor_address'))

    op.drop_table('exchange_subscription')
    with op.batch_alter_table('exchange_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_document_product_id'))

    op.drop_table('exchange_document')
    with op.batch_alter_table('exchange_distribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_distribution_product_id'))

    op.drop_table('exchange_distribution')
    with op.batch_alter_table('exchange_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_product_pack_id'))

    op.drop_table('exchange_product')
    with op.batch_alter_table('exchange_listing_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_listing_attempt_product_id'))

    op.drop_table('exchange_listing_attempt')
    with op.batch_alter_table('exchange_cash_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_cash_entry_product_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_cash_entry_movement'))
        batch_op.drop_index(batch_op.f('ix_exchange_cash_entry_account'))

    op.drop_table('exchange_cash_entry')
    with op.batch_alter_table('exchange_api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_api_key_member_name'))
        batch_op.drop_index(batch_op.f('ix_exchange_api_key_key_hash'))

    op.drop_table('exchange_api_key')
