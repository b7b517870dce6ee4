"""Token generation and the three ways to present a token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from parley.api.app import create_app
from parley.auth import FailureLimiter, Tokens
from parley.config import Settings
from parley.errors import TooManyRequests, Unauthorized
from parley.services import build_services, build_storage
from tests.conftest import APP_ID, APP_SECRET, Api, start_server


def test_token_is_a_jwt_with_exp_and_is_reused(api: Api) -> None:
    body = {"type": "application", "appId": APP_ID, "appSecret": APP_SECRET}
    first = api.client.post("/oauth2/token:generate", json=body)
    assert first.status_code == 200
    token, expires_in = first.json()["accessToken"], first.json()["expiresIn"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == APP_ID
    assert abs(claims["exp"] - time.time() - expires_in) < 5
    assert 86000 < expires_in <= 86400
    second = api.client.post("/oauth2/token:generate", json=body).json()
    assert second["accessToken"] == token
    assert second["expiresIn"] <= expires_in


def test_bad_credentials_are_401(api: Api) -> None:
    response = api.client.post(
        "/oauth2/token:generate",
        json={"type": "application", "appId": APP_ID, "appSecret": "wrong"},
    )
    assert response.status_code == 401
    assert "not valid" in response.json()["message"]


def test_token_request_without_body_is_400(api: Api) -> None:
    response = api.client.post("/oauth2/token:generate", content=b"")
    assert response.status_code == 400
    assert "message" in response.json()


def test_bearer_x_api_key_and_query_token_are_accepted(api: Api) -> None:
    token = api.token()
    unknown = "/v1/job/00000000-0000-4000-8000-000000000000"
    for kwargs in (
        {"headers": {"Authorization": f"Bearer {token}"}},
        {"headers": {"x-api-key": token}},
        {"headers": {"X-API-KEY": token}},
        {"params": {"access_token": token}},
    ):
        # authenticated: the job is merely unknown
        assert api.client.get(unknown, **kwargs).status_code == 404


def test_missing_malformed_and_expired_tokens_are_401(api: Api) -> None:
    expired = jwt.encode(
        {"sub": APP_ID, "exp": int(time.time()) - 10}, api.services.tokens._secret, "HS256"
    )
    forged = jwt.encode(
        {"sub": APP_ID, "exp": int(time.time()) + 100},
        "not-the-key-but-long-enough-for-hs256!",
        "HS256",
    )
    for headers in (
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"x-api-key": expired},
        {"x-api-key": forged},
        {"Authorization": "Basic abc"},
    ):
        response = api.client.get("/v1/conversations", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Token validation failed for provided token."}


# -- the failure limit cannot lock an app's owner out ------------------------------------


@pytest.fixture()
def limited(tmp_path: Path) -> Iterator[str]:
    """A server allowing 3 failures a minute; it trusts X-Forwarded-For from loopback
    (uvicorn's default), so a test can speak from several client addresses."""
    settings = Settings(
        data_dir=tmp_path / "data",
        app_id=APP_ID,
        app_secret=APP_SECRET,
        workers=0,
        token_failures_per_minute=3,
    )
    server, thread, url = start_server(create_app(settings, services=build_services(settings)))
    yield url
    server.should_exit = True
    thread.join(30)


def _token(url: str, client: str, secret: str, app_id: str = APP_ID) -> httpx.Response:
    return httpx.post(
        f"{url}/oauth2/token:generate",
        json={"appId": app_id, "appSecret": secret},
        headers={"X-Forwarded-For": client},
    )


def test_wrong_secrets_from_others_do_not_lock_the_owner_out(limited: str) -> None:
    attacker, owner = "203.0.113.7", "198.51.100.20"
    assert [_token(limited, attacker, "wrong").status_code for _ in range(3)] == [401] * 3
    refused = _token(limited, attacker, APP_SECRET)  # the attacker's address is spent
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # the appId has reached its limit, yet its owner's right secret still gets a token
    response = _token(limited, owner, APP_SECRET)
    assert response.status_code == 200, response.text
    assert response.json()["accessToken"]


def test_while_an_app_is_attacked_each_address_gets_one_guess(limited: str) -> None:
    """Many addresses cannot share the guessing: once the appId is over its limit, an
    address that has failed once is refused before its secret is checked."""
    for n in range(3):
        assert _token(limited, f"203.0.113.{n}", "wrong").status_code == 401
    fresh = "203.0.113.50"
    assert _token(limited, fresh, "wrong").status_code == 401  # its first guess is checked
    assert _token(limited, fresh, APP_SECRET).status_code == 429  # its second is not
    assert _token(limited, "203.0.113.0", APP_SECRET).status_code == 429
    assert _token(limited, "198.51.100.20", APP_SECRET).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", app_id=APP_ID, app_secret=APP_SECRET)
    tokens = Tokens(
        storage=build_storage(settings), secret="k" * 32, limiter=FailureLimiter(limit=2)
    )
    for host in ("2001:db8:1:2::a", "2001:db8:1:2::b"):  # guesses at another app
        with pytest.raises(Unauthorized):
            tokens.generate("someone-else", "wrong", host)
    with pytest.raises(TooManyRequests):  # another address of the same /64
        tokens.generate(APP_ID, APP_SECRET, "2001:db8:1:2:ffff::1")
    assert tokens.generate(APP_ID, APP_SECRET, "2001:db8:1:3::1")[0]  # another /64
