"""Access tokens: appId/appSecret → a JWT with an ``exp`` claim, reused while valid.

Symbl's JS SDK decodes the token and reads ``exp``, so tokens are real JWTs
(HS256). Asking again while a token is still valid returns the same token with
its remaining lifetime, as Symbl did. The token is never stored: only its claims
(``jti``, issue and expiry times), from which the identical token is re-encoded;
a token verifies by its signature alone.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from parley.errors import TooManyRequests, Unauthorized
from parley.storage import Storage
from parley.storage import apps as apps_store

__all__ = ["FailureLimiter", "Tokens", "load_or_create_secret"]

INVALID_TOKEN = "Token validation failed for provided token."
INVALID_CREDENTIALS = "Combination of appId and appSecret is not valid."
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


class Tokens:
    """Issues and verifies access tokens."""

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
        self._signed: dict[str, tuple[str, float]] = {}  # token → (app id, exp): verified

    def _encode(self, app_id: str, jti: str, issued: datetime, expires: datetime) -> str:
        claims = {
            "sub": app_id,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": jti,
            "iss": "parley",
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def generate(self, app_id: str, app_secret: str, client: str = "") -> tuple[str, int]:
        """(accessToken, expiresIn seconds) for valid credentials, else Unauthorized.

        ``client`` is the caller's address, for the failure limit: a client over the
        limit is refused; while the appId is over it, so is any client with a recent
        failure, but a clean client's right secret still gets its token.
        """
        app_key, client_key = f"app:{app_id}", f"client:{_client_key(client)}"
        self.limiter.check([client_key])
        if self.limiter.over(app_key):
            self.limiter.check([client_key], limit=1)
        keys = [app_key, client_key]
        now = datetime.fromtimestamp(self._clock(), UTC)
        with self._storage.session() as session:
            app = apps_store.get_app(session=session, app_id=app_id)
            # The same PBKDF2 work whether or not the app exists: no timing tells them apart.
            if not apps_store.verify_secret(app, app_secret):
                self.limiter.failed(keys)
                raise Unauthorized(INVALID_CREDENTIALS)
            assert app is not None
            issued, expires = app.token_issued_at, app.token_expires_at
            if app.token_jti and issued and expires and expires - now > _REUSE_MARGIN:
                token = self._encode(app.id, app.token_jti, issued, expires)
                return token, int((expires - now).total_seconds())
            issued = now.replace(microsecond=0)
            expires = issued + self._ttl
            app.token_jti, app.token_issued_at, app.token_expires_at = (
                secrets.token_hex(8),
                issued,
                expires,
            )
            return self._encode(app.id, app.token_jti, issued, expires), int(
                self._ttl.total_seconds()
            )

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

        The signature and ``exp`` prove the token; the app's row is read at most once
        per ``_APP_CHECK_SECONDS`` per process (a small cache), so a deleted app is
        refused within that time and a status poll costs no extra database session.
        """
        app_id = self.verify_signature(token)
        if not self.app_recently_seen(app_id):
            self.check_app(app_id)
        return app_id

    def verify_signature(self, token: str) -> str:
        """The app id a token's signature and ``exp`` prove, else Unauthorized. No I/O.

        A token whose signature was checked is remembered until its ``exp``: a client
        polls with the same token, and the HMAC and JSON work was a tenth of a poll's CPU.
        """
        known = self._signed.get(token)
        now = self._clock()
        if known is not None and now < known[1]:
            return known[0]
        try:  # ``exp`` is checked against our clock below, not PyJWT's
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise Unauthorized(INVALID_TOKEN) from None
        exp = claims["exp"]
        if (
            not isinstance(claims["sub"], str)
            or not isinstance(exp, int | float)
            or isinstance(exp, bool)
            or exp <= now
        ):
            raise Unauthorized(INVALID_TOKEN)
        if len(self._signed) >= _APP_CACHE_SIZE:
            self._signed.clear()
        self._signed[token] = (claims["sub"], float(claims["exp"]))
        return claims["sub"]

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
