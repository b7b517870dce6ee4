"""Apps (API credentials). Secrets are stored only as salted PBKDF2 hashes."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from parley.storage.models import App, RevokedToken

__all__ = [
    "create_app",
    "get_app",
    "is_revoked",
    "new_app_id",
    "new_app_secret",
    "revoke_token",
    "verify_secret",
]

_ITERATIONS = 100_000


def _hash(secret: str, salt: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), _ITERATIONS)
    return f"pbkdf2${salt}${digest.hex()}"


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the appId is unknown, so that takes as long as a wrong secret."""
    return _hash(secrets.token_hex(16), secrets.token_hex(8))


def verify_secret(app: App | None, secret: str) -> bool:
    """Whether ``secret`` is the app's; the same PBKDF2 work for a missing app."""
    stored = app.secret_hash if app is not None else _dummy_hash()
    _, salt, _ = stored.split("$", 2)
    match = hmac.compare_digest(_hash(secret, salt), stored)
    return match and app is not None


#: Symbl's Web SDK checks credentials by shape: a 64-character appId and a 128-character
#: appSecret, both of lower-case letters and digits (symbl-streaming.md §12 item 11).
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_app_id() -> str:
    """A random appId in the shape Symbl's Web SDK accepts (64 of ``[0-9a-z]``)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(64))


def new_app_secret() -> str:
    """A random appSecret in the shape Symbl's Web SDK accepts (128 of ``[0-9a-z]``)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(128))


def create_app(
    *, session: Session, name: str, app_id: str | None = None, secret: str | None = None
) -> tuple[App, str]:
    """A new app; returns it with its plain secret (shown once, never stored)."""
    secret = secret or new_app_secret()
    app = App(
        id=app_id or new_app_id(),
        name=name,
        secret_hash=_hash(secret, secrets.token_hex(8)),
    )
    session.add(app)
    session.flush()
    return app, secret


def get_app(*, session: Session, app_id: str) -> App | None:
    return session.get(App, app_id)


def revoke_token(
    *, session: Session, jti: str, app_id: str, expires_at: datetime, now: datetime
) -> None:
    """Refuse the token ``jti`` from now on (idempotent); rows of tokens that have expired
    on their own are dropped, so the table holds only what a check can still meet."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, app_id=app_id, expires_at=expires_at, revoked_at=now))
        session.flush()


#: Built once: it runs on every authenticated request, and building it took longer than
#: the read itself.
_REVOKED = select(RevokedToken.jti).where(RevokedToken.jti == bindparam("jti"))


def is_revoked(*, session: Session | Connection, jti: str) -> bool:
    """Whether ``jti`` was revoked: one primary-key read (a bare connection will do)."""
    return session.execute(_REVOKED, {"jti": jti}).first() is not None
