"""blacklist: tables of blacklist (listings, related persons, change log, webhooks, screening log)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import enforcement.core.db  # noqa: F401

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('list_access_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('token_id', sa.BigInteger(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('query_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_access_log'))
    )
    with op.batch_alter_table('list_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_access_log_token_id'), ['token_id'], unique=False)

    op.create_table('listing_changes',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('listing_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_listing_changes'))
    )
    with op.batch_alter_table('listing_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_changes_listing_id'), ['listing_id'], unique=False)

    op.create_table('listing_feed_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_feed_counter'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_id', sa.BigInteger(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('types', sa.JSON(), nullable=True),
    sa.Column('payload', sa.String(length=8), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivered_seq', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_until', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('disabled_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f('ck_webhook_subscriptions_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_token_id'), ['token_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subscription_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_sub_seq', ['subscription_id', 'seq'], unique=False)

    op.create_table('listings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('court_code', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('grounds', sa.JSON(), nullable=False),
    sa.Column('implied_by_id', sa.BigInteger(), nullable=True),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_norm', sa.String(length=200), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('legal_representative', sa.String(length=200), nullable=True),
    sa.Column('legal_representative_id_number', sa.String(length=18), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('aggravated', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('removal_reason', sa.String(length=32), nullable=True),
    sa.Column('removal_note', sa.Text(), nullable=True),
    sa.Column('removal_trigger_on', sa.Date(), nullable=True),
    sa.Column('deletion_deadline', sa.Date(), nullable=True),
    sa.Column('removed_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('dishonest', 'restricted')", name=op.f('ck_listings_kind')),
    sa.CheckConstraint("status IN ('active', 'removed')", name=op.f('ck_listings_status')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_listings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_listings_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index('ix_listings_case_party', ['case_id', 'party_id'], unique=False)
        batch_op.create_index('ix_listings_credit_code', ['credit_code'], unique=False)
        batch_op.create_index('ix_listings_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_listings_name_norm', ['name_norm'], unique=False)
        batch_op.create_index('ix_listings_status_ends_on', ['status', 'ends_on'], unique=False)

    op.create_table('listing_persons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('listing_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_norm', sa.String(length=200), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.CheckConstraint("role IN ('legal_representative', 'principal', 'directly_responsible', 'actual_controller')", name=op.f('ck_listing_persons_role')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_persons_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_persons'))
    )
    with op.batch_alter_table('listing_persons', schema=None) as batch_op:
        batch_op.create_index('ix_listing_persons_id_number', ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_persons_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index('ix_listing_persons_name_norm', ['name_norm'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('listing_persons', schema=None) as batch_op:
        batch_op.drop_index('ix_listing_persons_name_norm')
        batch_op.drop_index(batch_op.f('ix_listing_persons_listing_id'))
        batch_op.drop_index('ix_listing_persons_id_number')

    op.drop_table('listing_persons')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('ix_listings_status_ends_on')
        batch_op.drop_index('ix_listings_name_norm')
        batch_op.drop_index('ix_listings_id_number')
        batch_op.drop_index('ix_listings_credit_code')
        batch_op.drop_index('ix_listings_case_party')

    op.drop_table('listings')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_sub_seq')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_token_id'))

    op.drop_table('webhook_subscriptions')
    op.drop_table('listing_feed_counter')
    with op.batch_alter_table('listing_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_changes_listing_id'))

    op.drop_table('listing_changes')
    with op.batch_alter_table('list_access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_access_log_token_id'))

    op.drop_table('list_access_log')
