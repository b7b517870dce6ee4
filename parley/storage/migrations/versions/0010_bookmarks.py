"""bookmarks

Revision ID: 0010
Revises: 0009

``bookmarks`` holds the bookmarks of conversations (``/v1/conversations/{id}/bookmarks``,
spec R.3): a label, a description, the user who made it, a window of whole seconds and,
when the bookmark names its messages, their ids. A bookmark goes with its conversation
(``ON DELETE CASCADE``, and ``delete_conversation`` deletes them explicitly too).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user_info", sa.JSON(), nullable=False),
        sa.Column("begin_time_offset", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_bookmarks_conversation", "bookmarks", ["conversation_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_bookmarks_conversation", table_name="bookmarks")
    op.drop_table("bookmarks")
