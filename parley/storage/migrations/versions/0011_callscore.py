"""call-score criteria and scorecards (Management API)

Revision ID: 0011
Revises: 0010

``callscore_criteria`` holds each app's custom criteria (checklist questions with
priorities); ``callscore_scorecards`` the criteria lists a call is scored on (custom ids
and the managed ``Symbl.*`` ids). Call scores themselves are an insight row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callscore_criteria",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callscore_criteria_app_id", "callscore_criteria", ["app_id"])
    op.create_table(
        "callscore_scorecards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("criteria_list", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callscore_scorecards_app_id", "callscore_scorecards", ["app_id"])


def downgrade() -> None:
    op.drop_index("ix_callscore_scorecards_app_id", table_name="callscore_scorecards")
    op.drop_table("callscore_scorecards")
    op.drop_index("ix_callscore_criteria_app_id", table_name="callscore_criteria")
    op.drop_table("callscore_criteria")
