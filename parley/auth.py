"""Access tokens: appId/appSecret → a JWT with an ``exp`` claim, reused while valid.

Symbl's JS SDK decodes the token and reads ``exp``, so tokens are real JWTs
(HS256). Asking again while a token is still valid returns the same token with
its remaining lifetime, as Symbl did. The token is never stored: only its claims
(``jti``, issue and expiry times), from which the identical token is re-encoded;
a token verifies by its signature, and is refused once its ``jti`` is in the
database's revocation table (``DELETE /oauth2/token:revoke``), which every
authenticated request reads, so a revoked token is refused by every API process at once.

Each access token comes with a refresh token (Symbl's swagger ``Token`` model names the
field ``refershToken``): a JWT of its own audience, bound to the access token's ``jti``,
good for ``POST /oauth2/token:refresh`` (with the app's credentials) for 30 days after
the access token expires. A refresh token is used once (rotation); revoking the access
token revokes it too.

Failed token requests are counted per appId and per client address
(``FailureLimiter``). A client address past the limit is refused with 429 and
``Retry-After`` before any secret is checked, so a flood of guesses costs neither
CPU nor a way to enumerate appIds. An appId past the limit (guesses from many
addresses) does not lock its owner out: only addresses that have failed recently
are refused, a clean one still has its secret checked. So guessing is bounded per
address always, and to one guess per address per window while the appId is under
attack, and anyone who knows an appId cannot keep its owner from getting a token.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import jwt
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from parley.errors import TooManyRequests, Unauthorized
from parley.storage import Storage
from parley.storage import apps as apps_store
from parley.storage.models import App

__all__ = ["FailureLimiter", "Grant", "Tokens", "load_or_create_secret"]

INVALID_TOKEN = "Token validation failed for provided token."
INVALID_CREDENTIALS = "Combination of appId and appSecret is not valid."
INVALID_REFRESH = "The refresh token is not valid for this appId, or was already used."
#: The ``aud`` of refresh tokens: an access-token check (no audience) refuses them.
REFRESH_AUDIENCE = "parley:refresh"
#: How long after its access token expires a refresh token is still good.
REFRESH_TTL = timedelta(days=30)
_REUSE_MARGIN = timedelta(minutes=5)
_APP_CHECK_SECONDS = 30.0
_APP_CACHE_SIZE = 10_000


def load_or_create_secret(path: Path) -> str:
    """The signing key kept in the data directory, created owner-only on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


class FailureLimiter:
    """At most ``limit`` failures per key in a sliding ``window`` (seconds).

    In memory, per process: with several API processes the limit applies to each.
    ``clock`` (monotonic seconds) is injectable so tests move time instead of sleeping.
    """

    def __init__(
        self, limit: int = 10, window: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, keys: Iterable[str], *, limit: int | None = None) -> None:
        """``TooManyRequests`` if any key has ``limit`` (default: the limit) failures."""
        limit = self.limit if limit is None else limit
        now = self._clock()
        with self._lock:
            waits = []
            for key in keys:
                times = self._prune(key, now)
                if len(times) >= limit:  # until the failure that makes it ``limit`` expires
                    waits.append(times[-limit] + self.window - now)
        if waits:
            raise TooManyRequests(
                "Too many failed token requests; try again later.",
                retry_after=max(1, math.ceil(max(waits))),
            )

    def over(self, key: str) -> bool:
        """Whether ``key`` has reached the limit."""
        with self._lock:
            return len(self._prune(key, self._clock())) >= self.limit

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._prune(key, now)
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # a spray of keys: forget the oldest
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]


def _client_key(client: str) -> str:
    """The address to count failures by: an IPv6 client by its /64, which one host gets
    whole, so it cannot take a fresh address for each guess."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Grant(NamedTuple):
    """What ``token:generate`` and ``token:refresh`` answer."""

    access_token: str
    expires_in: int
    refresh_token: str


#: A storage's ``connection`` or ``loop_connection``.
Connections = Callable[[], AbstractContextManager[Connection]]


def _refresh_jti(access_jti: str) -> str:
    """A refresh token's own ``jti``: its revocation row, apart from its access token's."""
    return f"{access_jti}.r"


class Tokens:
    """Issues, refreshes, revokes and verifies access tokens."""

    def __init__(
        self,
        *,
        storage: Storage,
        secret: str,
        ttl_seconds: int = 86400,
        limiter: FailureLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` (Unix seconds) decides issue and expiry times, so tests of expiry move
        time instead of sleeping across a second boundary."""
        self._clock = clock
        self._storage = storage
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self.limiter = limiter or FailureLimiter()
        self._apps_seen: dict[str, float] = {}  # app id → when its row was last read (verify)
        # token → (app id, exp, jti): its signature was verified
        self._signed: dict[str, tuple[str, float, str]] = {}

    def _encode(self, app_id: str, jti: str, issued: datetime, expires: datetime) -> str:
        claims = {
            "sub": app_id,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": jti,
            "iss": "parley",
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def _encode_refresh(self, app_id: str, jti: str, issued: datetime, expires: datetime) -> str:
        """The refresh token of access token ``jti``: re-encoded identically, like it."""
        claims = {
            "sub": app_id,
            "aud": REFRESH_AUDIENCE,
            "iat": int(issued.timestamp()),
            "exp": int((expires + REFRESH_TTL).timestamp()),
            "jti": _refresh_jti(jti),
            "ati": jti,
            "iss": "parley",
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def _grant(
        self, app: App, jti: str, issued: datetime, expires: datetime, now: datetime
    ) -> Grant:
        return Grant(
            self._encode(app.id, jti, issued, expires),
            int((expires - now).total_seconds()),
            self._encode_refresh(app.id, jti, issued, expires),
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _authenticated(self, session: Session, app_id: str, app_secret: str, client: str) -> App:
        """The app whose credentials these are, else Unauthorized (counted as a failure).

        ``client`` is the caller's address, for the failure limit: a client over the
        limit is refused; while the appId is over it, so is any client with a recent
        failure, but a clean client's right secret still gets its token.
        """
        app_key, client_key = f"app:{app_id}", f"client:{_client_key(client)}"
        self.limiter.check([client_key])
        if self.limiter.over(app_key):
            self.limiter.check([client_key], limit=1)
        app = apps_store.get_app(session=session, app_id=app_id)
        # The same PBKDF2 work whether or not the app exists: no timing tells them apart.
        if not apps_store.verify_secret(app, app_secret):
            self.limiter.failed([app_key, client_key])
            raise Unauthorized(INVALID_CREDENTIALS)
        assert app is not None
        return app

    def _fresh(self, app: App, now: datetime) -> Grant:
        """A new access token for ``app``, the one ``generate`` hands out from now on."""
        issued = now.replace(microsecond=0)
        expires = issued + self._ttl
        app.token_jti, app.token_issued_at, app.token_expires_at = (
            secrets.token_hex(8),
            issued,
            expires,
        )
        return self._grant(app, app.token_jti, issued, expires, issued)

    def issue(self, app_id: str, app_secret: str, client: str = "") -> Grant:
        """The app's token (the same one while it has more than a few minutes left) and
        its refresh token, for valid credentials; else Unauthorized."""
        now = self._now()
        with self._storage.session() as session:
            app = self._authenticated(session, app_id, app_secret, client)
            issued, expires = app.token_issued_at, app.token_expires_at
            if app.token_jti and issued and expires and expires - now > _REUSE_MARGIN:
                return self._grant(app, app.token_jti, issued, expires, now)
            return self._fresh(app, now)

    def generate(self, app_id: str, app_secret: str, client: str = "") -> tuple[str, int]:
        """(accessToken, expiresIn seconds) for valid credentials, else Unauthorized."""
        grant = self.issue(app_id, app_secret, client)
        return grant.access_token, grant.expires_in

    def refresh(self, app_id: str, app_secret: str, refresh_token: str, client: str = "") -> Grant:
        """A new access token (and refresh token) for a refresh token this app was given
        and has not used or revoked; the refresh token is spent. Unauthorized otherwise."""
        now = self._now()
        with self._storage.session() as session:
            app = self._authenticated(session, app_id, app_secret, client)
            try:
                claims = jwt.decode(
                    refresh_token,
                    self._secret,
                    algorithms=["HS256"],
                    audience=REFRESH_AUDIENCE,
                    options={
                        "require": ["exp", "sub", "jti", "ati"],
                        "verify_exp": False,  # checked against our clock below
                        "verify_iat": False,
                    },
                )
            except jwt.PyJWTError:
                raise Unauthorized(INVALID_REFRESH) from None
            exp, jti, access_jti = claims["exp"], claims["jti"], claims["ati"]
            if (
                claims["sub"] != app.id
                or not isinstance(exp, int)
                or exp <= now.timestamp()
                or not isinstance(jti, str)
                or not isinstance(access_jti, str)
                or apps_store.is_revoked(session=session, jti=jti)
                or apps_store.is_revoked(session=session, jti=access_jti)
            ):
                raise Unauthorized(INVALID_REFRESH)
            expires = datetime.fromtimestamp(exp, UTC)
            apps_store.revoke_token(
                session=session, jti=jti, app_id=app.id, expires_at=expires, now=now
            )
            return self._fresh(app, now)

    def revoke(self, app_id: str, app_secret: str, token: str | None, client: str = "") -> None:
        """Refuse ``token`` (and its refresh token) from now on, in every process; without
        a token, the app's current one. The credentials must be the token's app's.

        Idempotent: a token already revoked, or past its ``exp``, is simply refused.
        """
        now = self._now()
        with self._storage.session() as session:
            app = self._authenticated(session, app_id, app_secret, client)
            if token is None:
                if app.token_jti is None or app.token_expires_at is None:
                    return
                jti, expires = app.token_jti, app.token_expires_at
            else:
                sub, exp, jti = self._decode(token)
                if sub != app.id:
                    raise Unauthorized("The token was not issued to this appId.")
                expires = datetime.fromtimestamp(exp, UTC)
            apps_store.revoke_token(
                session=session, jti=jti, app_id=app.id, expires_at=expires + REFRESH_TTL, now=now
            )
            if app.token_jti == jti:  # generate must not hand it out again
                app.token_jti = app.token_issued_at = app.token_expires_at = None
        if token is not None:
            self._signed.pop(token, None)

    def sign(self, claims: dict[str, object]) -> str:
        """A token for another purpose (e.g. a shared page), told apart by its ``aud``."""
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def read(self, token: str, *, audience: str) -> dict[str, object]:
        """The claims of a token ``sign`` made for ``audience``, else Unauthorized."""
        try:
            return dict(jwt.decode(token, self._secret, algorithms=["HS256"], audience=audience))
        except jwt.ExpiredSignatureError:
            raise Unauthorized("This link has expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized(INVALID_TOKEN) from None

    def verify(self, token: str) -> str:
        """The app id a valid token belongs to, else Unauthorized.

        The signature and ``exp`` prove the token; the revocation table is read every
        time (one primary-key read), so a token revoked by any process is refused at once;
        the app's row is read at most once per ``_APP_CHECK_SECONDS`` per process (a small
        cache), so a deleted app is refused within that time.
        """
        app_id = self.verify_signature(token)
        self.check_revoked(token, self._storage.connection)
        if not self.app_recently_seen(app_id):
            self.check_app(app_id)
        return app_id

    def _decode(self, token: str) -> tuple[str, float, str]:
        """(app id, exp, jti) the signature proves, whatever the time; else Unauthorized."""
        try:  # ``exp`` is checked against our clock by the caller, not PyJWT's
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={
                    "require": ["exp", "sub", "jti"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise Unauthorized(INVALID_TOKEN) from None
        sub, exp, jti = claims["sub"], claims["exp"], claims["jti"]
        if (
            not isinstance(sub, str)
            or not isinstance(jti, str)
            or not isinstance(exp, int | float)
            or isinstance(exp, bool)
        ):
            raise Unauthorized(INVALID_TOKEN)
        return sub, float(exp), jti

    def _verified(self, token: str) -> tuple[str, float, str]:
        """(app id, exp, jti) of a token whose signature and ``exp`` hold. No I/O.

        A token whose signature was checked is remembered until its ``exp``: a client
        polls with the same token, and the HMAC and JSON work was a tenth of a poll's CPU.
        """
        known = self._signed.get(token)
        now = self._clock()
        if known is not None and now < known[1]:
            return known
        verified = self._decode(token)
        if verified[1] <= now:
            raise Unauthorized(INVALID_TOKEN)
        if len(self._signed) >= _APP_CACHE_SIZE:
            self._signed.clear()
        self._signed[token] = verified
        return verified

    def verify_signature(self, token: str) -> str:
        """The app id a token's signature and ``exp`` prove, else Unauthorized. No I/O."""
        return self._verified(token)[0]

    def check_revoked(self, token: str, connections: Connections) -> None:
        """Unauthorized if the (signature-checked) token was revoked, by any process.

        ``connections`` is the storage's ``connection``, or ``loop_connection`` on SQLite:
        a bare connection, as a session's bookkeeping cost more than the read.
        """
        jti = self._verified(token)[2]
        with connections() as connection:
            if apps_store.is_revoked(session=connection, jti=jti):
                raise Unauthorized(INVALID_TOKEN)

    def app_recently_seen(self, app_id: str) -> bool:
        """Whether the app's row was found within ``_APP_CHECK_SECONDS``. No I/O."""
        seen = self._apps_seen.get(app_id)
        return seen is not None and time.monotonic() - seen <= _APP_CHECK_SECONDS

    def check_app(self, app_id: str) -> None:
        """Read the app's row (Unauthorized once it is deleted) and remember it was seen."""
        with self._storage.session() as session:
            if apps_store.get_app(session=session, app_id=app_id) is None:
                self._apps_seen.pop(app_id, None)
                raise Unauthorized(INVALID_TOKEN)
        if len(self._apps_seen) >= _APP_CACHE_SIZE:
            self._apps_seen.clear()
        self._apps_seen[app_id] = time.monotonic()
