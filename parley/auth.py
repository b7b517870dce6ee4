"""Access tokens: appId/appSecret → a JWT with an ``exp`` claim, cached per app.

Symbl's JS SDK decodes the token and reads ``exp``, so tokens are real JWTs
(HS256). Asking again while a token is still valid returns the same token with
its remaining lifetime, as Symbl did.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from parley.errors import Unauthorized
from parley.storage import Storage
from parley.storage import apps as apps_store

__all__ = ["Tokens", "load_or_create_secret"]

INVALID_TOKEN = "Token validation failed for provided token."
_REUSE_MARGIN = timedelta(minutes=5)


def load_or_create_secret(path: Path) -> str:
    """The signing key kept in the data directory, created on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


class Tokens:
    """Issues and verifies access tokens."""

    def __init__(self, *, storage: Storage, secret: str, ttl_seconds: int = 86400) -> None:
        self._storage = storage
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)

    def generate(self, app_id: str, app_secret: str) -> tuple[str, int]:
        """(accessToken, expiresIn seconds) for valid credentials, else Unauthorized."""
        now = datetime.now(UTC)
        with self._storage.session() as session:
            app = apps_store.get_app(session=session, app_id=app_id)
            if app is None or not apps_store.verify_secret(app, app_secret):
                raise Unauthorized("Combination of appId and appSecret is not valid.")
            expires = app.token_expires_at
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            if app.token and expires and expires - now > _REUSE_MARGIN:
                return app.token, int((expires - now).total_seconds())
            expires = now + self._ttl
            claims = {
                "sub": app.id,
                "iat": int(now.timestamp()),
                "exp": int(expires.timestamp()),
                "jti": secrets.token_hex(8),
                "iss": "parley",
            }
            token = jwt.encode(claims, self._secret, algorithm="HS256")
            app.token, app.token_expires_at = token, expires
            return token, int(self._ttl.total_seconds())

    def verify(self, token: str) -> str:
        """The app id a valid token belongs to, else Unauthorized."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
        except jwt.PyJWTError:
            raise Unauthorized(INVALID_TOKEN) from None
        with self._storage.session() as session:
            if apps_store.get_app(session=session, app_id=claims["sub"]) is None:
                raise Unauthorized(INVALID_TOKEN)
        return str(claims["sub"])
