"""full-text search over messages

Revision ID: 0005
Revises: 0004

SQLite: an FTS5 table kept in step with ``messages`` by triggers (its rowid is the
message's numeric id, so a deleted message leaves the index by rowid). PostgreSQL:
a GIN index on ``to_tsvector`` of the text, which the database maintains itself.
Either way every path that stores or deletes messages updates the index.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"  # "0002" in the brief; 0003 and 0004 landed on main meanwhile
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, message_id UNINDEXED, conversation_id UNINDEXED, tokenize = 'porter unicode61')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text, message_id, conversation_id) "
    "VALUES (CAST(new.id AS INTEGER), new.text, new.id, new.conversation_id); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "DELETE FROM messages_fts WHERE rowid = CAST(old.id AS INTEGER); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, conversation_id ON messages BEGIN "
    "DELETE FROM messages_fts WHERE rowid = CAST(old.id AS INTEGER); "
    "INSERT INTO messages_fts(rowid, text, message_id, conversation_id) "
    "VALUES (CAST(new.id AS INTEGER), new.text, new.id, new.conversation_id); END",
    "INSERT INTO messages_fts(rowid, text, message_id, conversation_id) "
    "SELECT CAST(id AS INTEGER), text, id, conversation_id FROM messages",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)
_PG_UP = (
    "CREATE INDEX ix_messages_text_search ON messages USING gin (to_tsvector('english', text))",
)
_PG_DOWN = ("DROP INDEX IF EXISTS ix_messages_text_search",)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        _run(_PG_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_PG_DOWN)
