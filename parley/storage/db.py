"""The database engine, sessions and schema migrations (Alembic, not create_all)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from parley.storage.audio import build_audio_store

__all__ = ["Storage"]

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x5041524C4559  # "PARLEY"


def _private_file(path: Path) -> None:
    """Create the SQLite file (and its directory) owner-only before SQLite opens it:
    it holds secret hashes and every transcript. SQLite gives its -wal and -shm files
    the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def _engine(url: str, *, timeout: float = 30, **options: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeout}, **options
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the API read while a worker writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Storage:
    """The database and the audio files: the one storage handle services get."""

    def __init__(self, database_url: str, audio_root: Path, storage_url: str | None = None) -> None:
        if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
            _private_file(Path(database_url.removeprefix("sqlite:///")))
        self.database_url = database_url
        self.engine = _engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._loop_engine: Engine | None = None
        self._loop_sessions: sessionmaker[Session] | None = None
        if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
            # One connection of its own (never a wait for the pool), and a short busy
            # timeout: a WAL reader waits only for a moment's recovery or clean-up.
            self._loop_engine = _engine(database_url, timeout=0.25, poolclass=StaticPool)
            self._loop_sessions = sessionmaker(self._loop_engine, expire_on_commit=False)
        self.audio = build_audio_store(storage_url, audio_root)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Serialise start-up work (migrations, seeding) across processes.

        An API process and several workers may start at the same moment against
        one database: PostgreSQL gets an advisory lock, SQLite a file lock.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                    connection.commit()
        elif self.database_url.startswith("sqlite:///"):
            lock = Path(self.database_url.removeprefix("sqlite:///") + ".lock")
            with lock.open("w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            yield

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def reads_on_loop(self) -> bool:
        """Whether ``loop_session`` is offered: a local SQLite file."""
        return self._loop_sessions is not None

    @contextmanager
    def loop_session(self) -> Iterator[Session]:
        """A session for a point read on the event loop itself, by one thread only.

        SQLite in WAL mode never makes a reader wait for a writer, so a read by primary
        key (~0.15 ms) costs less than the thread-pool hop it would otherwise take: the
        hop was half of a status poll's CPU. A networked database always takes the hop.
        """
        if self._loop_sessions is None:
            raise RuntimeError("loop_session is for a local SQLite database")
        with self._loop_sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A bare connection for one point read: no session's bookkeeping around it."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def loop_connection(self) -> Iterator[Connection]:
        """``connection`` on the event loop's own SQLite connection (see ``loop_session``)."""
        if self._loop_engine is None:
            raise RuntimeError("loop_connection is for a local SQLite database")
        with self._loop_engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
        if self._loop_engine is not None:
            self._loop_engine.dispose()
