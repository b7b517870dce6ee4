"""conversation groups, metadata as indexed rows

Revision ID: 0007
Revises: 0006

``conversation_groups`` holds the Management API's groups (RSQL ``criteria`` over
conversation metadata). ``conversation_metadata`` is each conversation's metadata again,
one row per key, indexed on (app, key, value, start time), so a group's members and a list filter
are found in SQL rather than by reading every conversation's JSON; it is filled here from
the JSON column. ``ix_conversations_app_start`` serves the time window and the order.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _text(value: Any) -> str:
    """The string a criterion compares with (the same rule as the storage layer's)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def upgrade() -> None:
    op.create_table(
        "conversation_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_groups_app_id", "conversation_groups", ["app_id"])
    op.create_table(
        "conversation_metadata",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "key"),
    )
    op.create_index(
        "ix_conversation_metadata_match",
        "conversation_metadata",
        ["app_id", "key", "value", "start_time", "conversation_id"],
    )
    op.create_index("ix_conversations_app_start", "conversations", ["app_id", "start_time", "id"])
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, app_id, metadata, start_time FROM conversations"))
    batch: list[dict[str, Any]] = []
    for cid, app_id, meta, start_time in rows:
        meta = json.loads(meta) if isinstance(meta, str) else meta
        batch.extend(
            {
                "conversation_id": cid,
                "key": key,
                "app_id": app_id,
                "value": _text(value),
                "start_time": start_time,
            }
            for key, value in (meta or {}).items()
            if len(key) <= 255
        )
    if batch:  # raw rows: the stored time as it is, whatever the dialect's format
        bind.execute(
            sa.text(
                "INSERT INTO conversation_metadata "
                "(conversation_id, key, app_id, value, start_time) "
                "VALUES (:conversation_id, :key, :app_id, :value, :start_time)"
            ),
            batch,
        )


def downgrade() -> None:
    op.drop_index("ix_conversations_app_start", table_name="conversations")
    op.drop_index("ix_conversation_metadata_match", table_name="conversation_metadata")
    op.drop_table("conversation_metadata")
    op.drop_index("ix_conversation_groups_app_id", table_name="conversation_groups")
    op.drop_table("conversation_groups")
