"""job owners, job warnings, tracker write guard

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:30:00

``jobs.worker_id`` names the worker process that holds a running job, so a job is taken
over only when that worker is known dead or its heartbeat is stale, and only the holder
can store its result. ``jobs.warnings`` carries what a completed job wants the user to
know (e.g. audio that could not be transcribed). ``apps.tracker_lock_until`` is a short
lease that lets one tracker write per app run at a time across every API process.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tracker_lock_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("tracker_lock_until")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("worker_id")
