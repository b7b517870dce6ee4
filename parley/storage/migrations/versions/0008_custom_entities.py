"""custom entities (Management API) and the app's entity-list version

Revision ID: 0008
Revises: 0007

``entity_definitions`` holds each app's custom entities (``sub_type`` unique within a
``type``); ``apps.entities_version`` counts changes to that list, so a conversation whose
entities were detected with an older list is detected again when read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_definitions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("sub_type", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("entity_definitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_definitions_app_id"), ["app_id"], unique=False)
        batch_op.create_index(
            "ux_entity_definitions_app_type_subtype", ["app_id", "type", "sub_type"], unique=True
        )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entities_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("entities_version")
    with op.batch_alter_table("entity_definitions", schema=None) as batch_op:
        batch_op.drop_index("ux_entity_definitions_app_type_subtype")
        batch_op.drop_index(batch_op.f("ix_entity_definitions_app_id"))
    op.drop_table("entity_definitions")
