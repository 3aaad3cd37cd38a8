"""auction rounds get a mode: a judicial auction or an online fixed-price sale (变卖)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auctions") as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=16), server_default="auction", nullable=False)
        )
        batch_op.create_check_constraint("mode", "mode IN ('auction', 'sale')")
    with op.batch_alter_table("auction_disposals") as batch_op:
        batch_op.add_column(sa.Column("sale_auction_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auction_disposals") as batch_op:
        batch_op.drop_column("sale_auction_id")
    with op.batch_alter_table("auctions") as batch_op:
        batch_op.drop_constraint(op.f("ck_auctions_mode"), type_="check")
        batch_op.drop_column("mode")
