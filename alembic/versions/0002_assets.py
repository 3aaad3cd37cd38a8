"""assets: tables of enforcement.assets (inquiries, assets, freezes, sweeps)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import enforcement.core.db  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sweep_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('subjects_total', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_runs')),
    sa.UniqueConstraint('run_date', name=op.f('uq_sweep_runs_run_date'))
    )
    op.create_table('assets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registry', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('registry_ref', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('gone_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('deposit', 'vehicle', 'securities', 'equity')", name=op.f('ck_assets_kind')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assets_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_assets_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('case_id', 'registry', 'registry_ref', name=op.f('uq_assets_case_id_registry_registry_ref'))
    )
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_assets_party', ['party_id'], unique=False)

    op.create_table('inquiries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=False),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_inquiries_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiries_case_id'), ['case_id'], unique=False)

    op.create_table('freezes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested', sa.BigInteger(), nullable=False),
    sa.Column('frozen', sa.BigInteger(), nullable=False),
    sa.Column('deducted', sa.BigInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('registry_reference', sa.String(length=128), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.Column('warned_on', sa.Date(), nullable=True),
    sa.CheckConstraint('frozen >= 0', name=op.f('ck_freezes_frozen_nonnegative')),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_freezes_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_freezes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_freezes')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_freezes_idempotency_key'))
    )
    with op.batch_alter_table('freezes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_freezes_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_freezes_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_freezes_status_expires', ['status', 'expires_on'], unique=False)

    op.create_table('inquiry_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('inquiry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registry', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('handle', sa.String(length=128), nullable=True),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('assets_found', sa.Integer(), nullable=False),
    sa.Column('assets_new', sa.Integer(), nullable=False),
    sa.Column('assets_changed', sa.Integer(), nullable=False),
    sa.Column('assets_gone', sa.Integer(), nullable=False),
    sa.Column('updated_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_tasks_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_inquiry_tasks_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_tasks')),
    sa.UniqueConstraint('inquiry_id', 'party_id', 'registry', name=op.f('uq_inquiry_tasks_inquiry_id_party_id_registry'))
    )
    with op.batch_alter_table('inquiry_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_tasks_inquiry_id'), ['inquiry_id'], unique=False)

    op.create_table('sweep_subjects',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sweep_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('respondent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', enforcement.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('assets_new', sa.Integer(), nullable=False),
    sa.Column('assets_changed', sa.Integer(), nullable=False),
    sa.Column('assets_gone', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sweep_subjects_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_sweep_subjects_party_id_parties')),
    sa.ForeignKeyConstraint(['respondent_id'], ['case_respondents.id'], name=op.f('fk_sweep_subjects_respondent_id_case_respondents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sweep_id'], ['sweep_runs.id'], name=op.f('fk_sweep_subjects_sweep_id_sweep_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_subjects')),
    sa.UniqueConstraint('sweep_id', 'respondent_id', name=op.f('uq_sweep_subjects_sweep_id_respondent_id'))
    )
    with op.batch_alter_table('sweep_subjects', schema=None) as batch_op:
        batch_op.create_index('ix_sweep_subjects_respondent_done', ['respondent_id', 'done_at'], unique=False)
        batch_op.create_index('ix_sweep_subjects_sweep_status', ['sweep_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sweep_subjects', schema=None) as batch_op:
        batch_op.drop_index('ix_sweep_subjects_sweep_status')
        batch_op.drop_index('ix_sweep_subjects_respondent_done')

    op.drop_table('sweep_subjects')
    with op.batch_alter_table('inquiry_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_tasks_inquiry_id'))

    op.drop_table('inquiry_tasks')
    with op.batch_alter_table('freezes', schema=None) as batch_op:
        batch_op.drop_index('ix_freezes_status_expires')
        batch_op.drop_index(batch_op.f('ix_freezes_case_id'))
        batch_op.drop_index(batch_op.f('ix_freezes_asset_id'))

    op.drop_table('freezes')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiries_case_id'))

    op.drop_table('inquiries')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index('ix_assets_party')
        batch_op.drop_index(batch_op.f('ix_assets_case_id'))

    op.drop_table('assets')
    op.drop_table('sweep_runs')
