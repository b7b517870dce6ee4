"""Tokens verify by signature, with the app's row read at most once per cache period and
the revocation table read every time: a token revoked by one process is refused by all."""

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
    assert sum("FROM apps" in s for s in statements) == 1
    for _ in range(50):
        assert tokens.verify(token) == app.id
    assert sum("FROM apps" in s for s in statements) == 1, "cached: the app row is read once"
    # ... but whether the token was revoked is asked every time, one point read each
    assert sum("FROM revoked_tokens" in s for s in statements) == 51
    assert len(statements) == 52

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


def _two_processes(tmp_path: Path) -> tuple[Storage, Storage, str, str]:
    """Two storages (two API processes' engines) on one SQLite file, and an app."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    one = Storage(url, tmp_path / "audio")
    one.migrate()
    with one.session() as session:
        app, secret = create_app(session=session, name="t")
    return one, Storage(url, tmp_path / "audio"), app.id, secret


def test_a_token_revoked_in_one_process_is_refused_by_another_at_once(tmp_path: Path) -> None:
    one, two, app_id, secret = _two_processes(tmp_path)
    first = auth.Tokens(storage=one, secret="k" * 32)
    second = auth.Tokens(storage=two, secret="k" * 32)
    token, _ = first.generate(app_id, secret)
    assert second.verify(token) == app_id  # seen: signature and app row now cached there
    assert second.app_recently_seen(app_id)

    first.revoke(app_id, secret, token)
    with pytest.raises(Unauthorized):
        second.verify(token)  # within the app-check period, with the signature remembered
    with pytest.raises(Unauthorized):
        second.check_revoked(token, two.connection)
    with pytest.raises(Unauthorized):
        first.verify(token)
    fresh, _ = second.generate(app_id, secret)  # not the revoked one handed out again
    assert fresh != token
    assert first.verify(fresh) == app_id
    one.dispose()
    two.dispose()


def test_revoke_needs_the_tokens_own_credentials(tmp_path: Path) -> None:
    one, _, app_id, secret = _two_processes(tmp_path)
    with one.session() as session:
        other, other_secret = create_app(session=session, name="other")
    tokens = auth.Tokens(storage=one, secret="k" * 32)
    token, _ = tokens.generate(app_id, secret)
    with pytest.raises(Unauthorized):
        tokens.revoke(app_id, "wrong", token)
    with pytest.raises(Unauthorized):  # another app's credentials cannot revoke it
        tokens.revoke(other.id, other_secret, token)
    assert tokens.verify(token) == app_id
    tokens.revoke(app_id, secret, None)  # no token given: the app's current one
    with pytest.raises(Unauthorized):
        tokens.verify(token)
    tokens.revoke(app_id, secret, token)  # again: nothing more to do, no error
    one.dispose()


def test_a_refresh_token_gives_a_new_token_once(tmp_path: Path) -> None:
    one, _, app_id, secret = _two_processes(tmp_path)
    now = [1_800_000_000.0]
    tokens = auth.Tokens(storage=one, secret="k" * 32, ttl_seconds=3600, clock=lambda: now[0])
    grant = tokens.issue(app_id, secret)
    assert tokens.issue(app_id, secret) == grant  # reused with its refresh token
    with pytest.raises(Unauthorized):  # a refresh token is no access token
        tokens.verify(grant.refresh_token)
    with pytest.raises(Unauthorized):  # nor an access token a refresh token
        tokens.refresh(app_id, secret, grant.access_token)
    now[0] += 7200  # the access token has expired; its refresh token still works
    with pytest.raises(Unauthorized):
        tokens.verify(grant.access_token)
    renewed = tokens.refresh(app_id, secret, grant.refresh_token)
    assert renewed.access_token != grant.access_token
    assert renewed.expires_in == 3600
    assert tokens.verify(renewed.access_token) == app_id
    assert tokens.issue(app_id, secret).access_token == renewed.access_token  # now the cached one
    with pytest.raises(Unauthorized):  # used once
        tokens.refresh(app_id, secret, grant.refresh_token)
    with pytest.raises(Unauthorized):  # only with the credentials of its app
        tokens.refresh(app_id, "wrong", renewed.refresh_token)
    tokens.revoke(app_id, secret, renewed.access_token)
    with pytest.raises(Unauthorized):  # revoking a token revokes its refresh token
        tokens.refresh(app_id, secret, renewed.refresh_token)
    now[0] += 7200
    last = tokens.issue(app_id, secret)
    now[0] += 3600 + auth.REFRESH_TTL.total_seconds()
    with pytest.raises(Unauthorized):  # past its own lifetime
        tokens.refresh(app_id, secret, last.refresh_token)
    one.dispose()


def test_revocation_and_settings_hold_across_processes_on_postgresql(
    pg_database: str, tmp_path: Path
) -> None:
    from parley import user_settings

    one = Storage(pg_database, tmp_path / "audio")
    one.migrate()
    two = Storage(pg_database, tmp_path / "audio")
    with one.session() as session:
        app, secret = create_app(session=session, name="t")
    first = auth.Tokens(storage=one, secret="k" * 32)
    second = auth.Tokens(storage=two, secret="k" * 32)
    token, _ = first.generate(app.id, secret)
    assert second.verify(token) == app.id
    first.revoke(app.id, secret, token)
    with pytest.raises(Unauthorized):
        second.verify(token)
    grant = first.issue(app.id, secret)
    assert second.verify(second.refresh(app.id, secret, grant.refresh_token).access_token)
    patch = [{"op": "add", "path": "/redaction/default", "value": True}]
    assert user_settings.patch_settings(one, app.id, patch) == {"redaction": {"default": True}}
    assert user_settings.app_settings(two, app.id) == {"redaction": {"default": True}}
    one.dispose()
    two.dispose()
