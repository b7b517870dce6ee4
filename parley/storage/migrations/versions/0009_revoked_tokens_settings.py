"""revoked tokens and app settings

Revision ID: 0009
Revises: 0008

``revoked_tokens`` holds the ``jti`` of each token refused before its ``exp``
(``DELETE /oauth2/token:revoke``, a used refresh token), read on every authenticated
request so every API process refuses a revoked token at once. ``app_settings`` holds an
app's user settings (``/v1/manage/settings``) as one JSON document.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), primary_key=True),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])
    op.create_table(
        "app_settings",
        sa.Column("app_id", sa.String(length=64), sa.ForeignKey("apps.id"), primary_key=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_settings")
    op.drop_index("ix_revoked_tokens_expires_at", table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
