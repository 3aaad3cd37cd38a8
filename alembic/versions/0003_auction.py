"""auction: tables of auction (lots, auctions, bidders, deposits, bids)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import enforcement.core.db  # noqa: F401

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auction_bidders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('barred', sa.Boolean(), nullable=False),
    sa.Column('barred_reason', sa.Text(), nullable=True),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_bidders'))
    )
    with op.batch_alter_table('auction_bidders', schema=None) as batch_op:
        batch_op.create_index('ix_auction_bidders_credit_code', ['credit_code'], unique=False)
        batch_op.create_index('ix_auction_bidders_id_number', ['id_number'], unique=False)

    op.create_table('auction_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('court_code', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('appraisal_price', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_auction_lots_asset_id_assets')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_auction_lots_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_lots'))
    )
    with op.batch_alter_table('auction_lots', schema=None) as batch_op:
        batch_op.create_index('ix_auction_lots_asset_status', ['asset_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_auction_lots_case_id'), ['case_id'], unique=False)

    op.create_table('auctions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.BigInteger(), nullable=True),
    sa.Column('court_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starting_price', sa.BigInteger(), nullable=False),
    sa.Column('deposit', sa.BigInteger(), nullable=False),
    sa.Column('increment', sa.BigInteger(), nullable=False),
    sa.Column('announced_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('starts_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scheduled_end', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('current_price', sa.BigInteger(), nullable=True),
    sa.Column('leader_registration_id', sa.BigInteger(), nullable=True),
    sa.Column('leader_rank', sa.Integer(), nullable=True),
    sa.Column('bid_count', sa.Integer(), nullable=False),
    sa.Column('hammer_price', sa.BigInteger(), nullable=True),
    sa.Column('winner_registration_id', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'open', 'sold', 'failed', 'defaulted', 'cancelled')", name=op.f('ck_auctions_status')),
    sa.CheckConstraint('bid_count >= 0', name=op.f('ck_auctions_bid_count_nonnegative')),
    sa.CheckConstraint('deposit > 0', name=op.f('ck_auctions_deposit_positive')),
    sa.CheckConstraint('increment > 0', name=op.f('ck_auctions_increment_positive')),
    sa.CheckConstraint('starting_price > 0', name=op.f('ck_auctions_starting_positive')),
    sa.ForeignKeyConstraint(['lot_id'], ['auction_lots.id'], name=op.f('fk_auctions_lot_id_auction_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auctions'))
    )
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auctions_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('ix_auctions_status_ends_at', ['status', 'ends_at'], unique=False)
        batch_op.create_index('ix_auctions_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('auction_disposals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('auction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('to_case', sa.BigInteger(), nullable=False),
    sa.Column('excess_due', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_disposals_auction_id_auctions')),
    sa.ForeignKeyConstraint(['lot_id'], ['auction_lots.id'], name=op.f('fk_auction_disposals_lot_id_auction_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_disposals')),
    sa.UniqueConstraint('auction_id', name=op.f('uq_auction_disposals_auction_id'))
    )
    with op.batch_alter_table('auction_disposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auction_disposals_lot_id'), ['lot_id'], unique=False)

    op.create_table('auction_priority_holders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('auction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.CheckConstraint('rank >= 1', name=op.f('ck_auction_priority_holders_rank_positive')),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_priority_holders_auction_id_auctions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_priority_holders')),
    sa.UniqueConstraint('auction_id', 'id_number', name=op.f('uq_auction_priority_holders_auction_id_id_number'))
    )
    op.create_table('auction_registrations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('auction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bidder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('priority_rank', sa.Integer(), nullable=True),
    sa.Column('deposit', sa.BigInteger(), nullable=False),
    sa.Column('payment_reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refund_reference', sa.String(length=64), nullable=True),
    sa.Column('refunded_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_registrations_auction_id_auctions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['bidder_id'], ['auction_bidders.id'], name=op.f('fk_auction_registrations_bidder_id_auction_bidders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_registrations')),
    sa.UniqueConstraint('auction_id', 'bidder_id', name=op.f('uq_auction_registrations_auction_id_bidder_id')),
    sa.UniqueConstraint('auction_id', 'code', name=op.f('uq_auction_registrations_auction_id_code'))
    )
    with op.batch_alter_table('auction_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auction_registrations_bidder_id'), ['bidder_id'], unique=False)
        batch_op.create_index('ix_auction_registrations_status', ['status'], unique=False)

    op.create_table('auction_bids',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('auction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('priority_match', sa.Boolean(), nullable=False),
    sa.Column('received_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_auction_bids_amount_positive')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_auction_bids_seq_positive')),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_bids_auction_id_auctions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['auction_registrations.id'], name=op.f('fk_auction_bids_registration_id_auction_registrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_bids')),
    sa.UniqueConstraint('auction_id', 'registration_id', 'client_key', name=op.f('uq_auction_bids_auction_id_registration_id_client_key')),
    sa.UniqueConstraint('auction_id', 'seq', name=op.f('uq_auction_bids_auction_id_seq'))
    )
    op.create_table('auction_settlements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('auction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bidder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('buyer_identifier', sa.String(length=18), nullable=False),
    sa.Column('hammer_price', sa.BigInteger(), nullable=False),
    sa.Column('deposit_applied', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('balance_due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payment_reference', sa.String(length=64), nullable=True),
    sa.Column('to_case', sa.BigInteger(), nullable=False),
    sa.Column('surplus_returned', sa.BigInteger(), nullable=False),
    sa.Column('commission_charged', sa.BigInteger(), nullable=False),
    sa.Column('commission_saved', sa.BigInteger(), nullable=False),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('commission_charged = 0', name=op.f('ck_auction_settlements_zero_commission')),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_settlements_auction_id_auctions')),
    sa.ForeignKeyConstraint(['bidder_id'], ['auction_bidders.id'], name=op.f('fk_auction_settlements_bidder_id_auction_bidders')),
    sa.ForeignKeyConstraint(['lot_id'], ['auction_lots.id'], name=op.f('fk_auction_settlements_lot_id_auction_lots')),
    sa.ForeignKeyConstraint(['registration_id'], ['auction_registrations.id'], name=op.f('fk_auction_settlements_registration_id_auction_registrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auction_settlements')),
    sa.UniqueConstraint('auction_id', name=op.f('uq_auction_settlements_auction_id'))
    )
    with op.batch_alter_table('auction_settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auction_settlements_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('ix_auction_settlements_status_due', ['status', 'balance_due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('auction_settlements', schema=None) as batch_op:
        batch_op.drop_index('ix_auction_settlements_status_due')
        batch_op.drop_index(batch_op.f('ix_auction_settlements_lot_id'))

    op.drop_table('auction_settlements')
    op.drop_table('auction_bids')
    with op.batch_alter_table('auction_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_auction_registrations_status')
        batch_op.drop_index(batch_op.f('ix_auction_registrations_bidder_id'))

    op.drop_table('auction_registrations')
    op.drop_table('auction_priority_holders')
    with op.batch_alter_table('auction_disposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auction_disposals_lot_id'))

    op.drop_table('auction_disposals')
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.drop_index('ix_auctions_status_starts_at')
        batch_op.drop_index('ix_auctions_status_ends_at')
        batch_op.drop_index(batch_op.f('ix_auctions_lot_id'))

    op.drop_table('auctions')
    with op.batch_alter_table('auction_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auction_lots_case_id'))
        batch_op.drop_index('ix_auction_lots_asset_status')

    op.drop_table('auction_lots')
    with op.batch_alter_table('auction_bidders', schema=None) as batch_op:
        batch_op.drop_index('ix_auction_bidders_id_number')
        batch_op.drop_index('ix_auction_bidders_credit_code')

    op.drop_table('auction_bidders')
