"""Token generation and the three ways to present a token."""

from __future__ import annotations

import time

import jwt

from tests.conftest import APP_ID, APP_SECRET, Api


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
