"""audit head: one row that orders the audit chain and lets an append be one statement

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # Continue an existing chain from its last record, or start a new one.
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, seq, prev_hash, hash) "
            "SELECT 1, COALESCE(MAX(seq), 0), :genesis, "
            "COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), :genesis) "
            "FROM audit_log"
        ).bindparams(genesis=GENESIS)
    )


def downgrade() -> None:
    op.drop_table("audit_head")
