"""no stored access tokens; webhook event ids and disabled (410) URLs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"  # "0002" in the brief; 0003 landed on main meanwhile
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("token")
        batch_op.add_column(sa.Column("token_jti", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE apps SET token_expires_at = NULL")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=64), nullable=True))
    op.create_table(
        "webhook_disabled_urls",
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url_hash"),
    )


def downgrade() -> None:
    op.drop_table("webhook_disabled_urls")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("event_id")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("token_issued_at")
        batch_op.drop_column("token_jti")
        batch_op.add_column(sa.Column("token", sa.Text(), nullable=True))
