"""Tokens verify by signature, with the app's row read at most once per cache period."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, event

from parley import auth
from parley.errors import Unauthorized
from parley.storage import Storage
from parley.storage.apps import create_app
from parley.storage.models import App


def test_verify_reads_the_app_row_once_per_period(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    storage = Storage(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "audio")
    storage.migrate()
    with storage.session() as session:
        app, secret = create_app(session=session, name="t")
    tokens = auth.Tokens(storage=storage, secret="k" * 32)
    token, _ = tokens.generate(app.id, secret)
    statements: list[str] = []
    event.listen(storage.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert tokens.verify(token) == app.id
    reads = len(statements)
    assert reads >= 1
    for _ in range(50):
        assert tokens.verify(token) == app.id
    assert len(statements) == reads, "cached: no query per request"

    with storage.session() as session:
        session.execute(delete(App).where(App.id == app.id))
    monkeypatch.setattr(auth, "_APP_CHECK_SECONDS", 0.0)
    with pytest.raises(Unauthorized):
        tokens.verify(token)  # a deleted app is refused once the period is over
    with pytest.raises(Unauthorized):
        tokens.verify(token[:-2] + "xx")
    storage.dispose()


def test_a_remembered_token_is_refused_once_it_expires(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "audio")
    storage.migrate()
    with storage.session() as session:
        app, secret = create_app(session=session, name="t")
    now = [1_800_000_000.25]  # mid-second: issue times are truncated to the second
    tokens = auth.Tokens(storage=storage, secret="k" * 32, ttl_seconds=60, clock=lambda: now[0])
    token, expires_in = tokens.generate(app.id, secret)
    assert expires_in == 60
    assert tokens.verify(token) == app.id  # verified once, then remembered
    now[0] += 59.5
    assert tokens.verify(token) == app.id  # still inside its lifetime (exp is whole seconds)
    now[0] += 0.5
    with pytest.raises(Unauthorized):  # the remembered signature does not outlive exp
        tokens.verify(token)
    fresh = auth.Tokens(storage=storage, secret="k" * 32, clock=lambda: now[0])
    with pytest.raises(Unauthorized):  # nor does a first check after exp
        fresh.verify(token)
    other = auth.Tokens(storage=storage, secret="j" * 32)
    with pytest.raises(Unauthorized):  # another secret's check is its own: nothing shared
        other.verify(token)
    storage.dispose()
