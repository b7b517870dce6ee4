"""Apps (API credentials). Secrets are stored only as salted PBKDF2 hashes."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from parley.storage.models import App

__all__ = ["create_app", "get_app", "verify_secret"]

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


def create_app(
    *, session: Session, name: str, app_id: str | None = None, secret: str | None = None
) -> tuple[App, str]:
    """A new app; returns it with its plain secret (shown once, never stored)."""
    secret = secret or secrets.token_hex(32)
    app = App(
        id=app_id or secrets.token_hex(16),
        name=name,
        secret_hash=_hash(secret, secrets.token_hex(8)),
    )
    session.add(app)
    session.flush()
    return app, secret


def get_app(*, session: Session, app_id: str) -> App | None:
    return session.get(App, app_id)
