"""repair stored strings holding a lone surrogate or a NUL

Revision ID: 0006
Revises: 0005

Before the API refused them at its edge (``parley.textcheck``), a JSON ``"\\ud800"`` or
``"\\u0000"`` could be stored: in JSON columns as the escape itself (on either
database), and a NUL in plain text columns on SQLite. A lone surrogate cannot be
encoded as UTF-8, so every read of such a row answered 500, and a conversation's
metadata took the app's whole conversation list down with it. Each such character is
replaced by U+FFFD here, as the API would now refuse it. Idempotent; nothing to undo.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from parley.textcheck import bad_character, scrub

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: table → (its key columns, the JSON columns that can hold text from a request)
_JSON_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conversations": (("id",), ("metadata", "insight_options")),
    "jobs": (("id",), ("options", "input_data")),
    "trackers": (("id",), ("categories", "languages", "vocabulary", "exclude_vocabulary")),
    "insights": (("conversation_id", "kind"), ("payload",)),
}
#: table → (its key column, the text columns a request names); a NUL there is possible
#: on SQLite only (PostgreSQL refuses it), a surrogate on neither (it cannot be encoded).
_TEXT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "conversations": ("id", ("name",)),
    "members": ("id", ("name", "email")),
    "trackers": ("id", ("name", "description")),
}


def _repair_json(bind: sa.Connection, name: str, keys: tuple[str, ...], column: str) -> None:
    stored = sa.cast(sa.column(column), sa.Text)
    # Only a row whose JSON text has an escape can hold either character (on SQLite
    # every non-ASCII character is escaped, so this is a coarse but safe filter).
    query = sa.select(*(sa.column(k) for k in keys), stored.label("stored")).select_from(
        sa.table(name)
    )
    query = query.where(stored.contains("\\u", autoescape=True))
    target = sa.table(name, *(sa.column(k) for k in keys), sa.column(column, sa.JSON))
    for row in bind.execute(query).mappings():
        try:
            value: Any = json.loads(row["stored"])
        except (TypeError, ValueError, RecursionError):
            continue
        fixed = scrub(value)
        if fixed != value:
            condition = sa.and_(*(target.c[k] == row[k] for k in keys))
            bind.execute(sa.update(target).where(condition).values({column: fixed}))


def _repair_text(bind: sa.Connection, name: str, key: str, column: str) -> None:
    table = sa.table(name, sa.column(key), sa.column(column, sa.Text))
    found = sa.select(table.c[key], table.c[column]).where(
        sa.func.instr(table.c[column], sa.func.char(0)) > 0
    )
    for row in bind.execute(found).all():
        if isinstance(row[1], str) and bad_character(row[1]) is not None:
            update = sa.update(table).where(table.c[key] == row[0])
            bind.execute(update.values({column: scrub(row[1])}))


def upgrade() -> None:
    bind = op.get_bind()
    for name, (keys, columns) in _JSON_COLUMNS.items():
        for column in columns:
            _repair_json(bind, name, keys, column)
    if bind.dialect.name == "sqlite":
        for name, (key, columns) in _TEXT_COLUMNS.items():
            for column in columns:
                _repair_text(bind, name, key, column)


def downgrade() -> None:
    """Nothing to undo: the characters replaced could not be served anyway."""
