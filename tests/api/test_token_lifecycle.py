"""``POST /oauth2/token:refresh`` and ``DELETE /oauth2/token:revoke`` (spec §1.2): a token
revoked through one API process is refused by every other at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from parley.api.app import create_app
from parley.config import Settings
from parley.services import build_services
from parley.storage import apps as apps_store
from tests.conftest import Api, data_dir, start_server


@pytest.fixture()
def credentials(api: Api) -> dict[str, str]:
    """An app of its own: revoking its tokens leaves the session's app alone."""
    with api.services.storage.session() as session:
        app, secret = apps_store.create_app(session=session, name="lifecycle")
    return {"appId": app.id, "appSecret": secret}


def test_generate_hands_out_a_refresh_token_that_gives_a_new_token(
    api: Api, credentials: dict[str, str]
) -> None:
    first = api.client.post("/oauth2/token:generate", json=credentials).json()
    assert set(first) == {"accessToken", "expiresIn", "refershToken"}  # the swagger spelling
    claims = jwt.decode(first["refershToken"], options={"verify_signature": False})
    assert claims["aud"] == "parley:refresh" and claims["sub"] == credentials["appId"]
    refresh = credentials | {"refreshToken": first["refershToken"]}

    renewed = api.client.post("/oauth2/token:refresh", json=refresh)
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["accessToken"] != first["accessToken"] and 86000 < body["expiresIn"] <= 86400
    new = {"x-api-key": body["accessToken"]}
    assert api.client.get("/v1/conversations", headers=new).status_code == 200
    old = {"x-api-key": first["accessToken"]}
    assert api.client.get("/v1/conversations", headers=old).status_code == 200  # until exp
    again = api.client.post("/oauth2/token:generate", json=credentials).json()
    assert again["accessToken"] == body["accessToken"]  # the refreshed token is the app's now

    used = api.client.post("/oauth2/token:refresh", json=refresh)
    assert used.status_code == 401 and "already used" in used.json()["message"]
    refreshed_as_access = api.client.get(
        "/v1/conversations", headers={"x-api-key": first["refershToken"]}
    )
    assert refreshed_as_access.status_code == 401  # a refresh token is not an access token


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, '"appId"'),
        ({"appId": "x", "appSecret": "y"}, '"refreshToken"'),
        ({"appId": "x", "appSecret": "y", "refreshToken": 7}, '"refreshToken"'),
        ({"appId": "x", "appSecret": "y", "refreshToken": "t" * 5000}, '"refreshToken"'),
        ([], "JSON object"),
    ],
)
def test_malformed_refresh_requests_are_400_naming_the_field(
    api: Api, body: Any, named: str
) -> None:
    response = api.client.post("/oauth2/token:refresh", json=body)
    assert response.status_code == 400 and named in response.json()["message"]


def test_refresh_with_wrong_credentials_or_a_forged_token_is_401(
    api: Api, credentials: dict[str, str]
) -> None:
    first = api.client.post("/oauth2/token:generate", json=credentials).json()
    wrong = credentials | {"appSecret": "wrong", "refreshToken": first["refershToken"]}
    assert api.client.post("/oauth2/token:refresh", json=wrong).status_code == 401
    forged = jwt.encode(
        {"sub": credentials["appId"], "aud": "parley:refresh", "exp": 4_000_000_000, "jti": "x"},
        "not-the-key-but-long-enough-for-hs256-0123",
    )
    response = api.client.post("/oauth2/token:refresh", json=credentials | {"refreshToken": forged})
    assert response.status_code == 401
    # the genuine one still works: failures spent nothing
    good = credentials | {"refreshToken": first["refershToken"]}
    assert api.client.post("/oauth2/token:refresh", json=good).status_code == 200


def test_revoke_refuses_the_presented_token(api: Api, credentials: dict[str, str]) -> None:
    token = api.client.post("/oauth2/token:generate", json=credentials).json()
    headers = {"Authorization": f"Bearer {token['accessToken']}"}
    assert api.client.get("/v1/conversations", headers=headers).status_code == 200
    wrong = api.client.request(
        "DELETE", "/oauth2/token:revoke", json=credentials | {"appSecret": "no"}, headers=headers
    )
    assert wrong.status_code == 401
    assert api.client.get("/v1/conversations", headers=headers).status_code == 200

    revoked = api.client.request(
        "DELETE", "/oauth2/token:revoke", json=credentials, headers=headers
    )
    assert revoked.status_code == 204 and revoked.content == b""
    refused = api.client.get("/v1/conversations", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"message": "Token validation failed for provided token."}
    for kwargs in (
        {"headers": {"x-api-key": token["accessToken"]}},
        {"params": {"access_token": token["accessToken"]}},
    ):
        assert api.client.get("/v1/conversations", **kwargs).status_code == 401
    # its refresh token went with it
    refresh = credentials | {"refreshToken": token["refershToken"]}
    assert api.client.post("/oauth2/token:refresh", json=refresh).status_code == 401
    # generate does not hand the revoked token out again
    fresh = api.client.post("/oauth2/token:generate", json=credentials).json()["accessToken"]
    assert fresh != token["accessToken"]
    assert api.client.get("/v1/conversations", headers={"x-api-key": fresh}).status_code == 200
    # again: idempotent
    again = api.client.request("DELETE", "/oauth2/token:revoke", json=credentials, headers=headers)
    assert again.status_code == 204


def test_revoke_without_a_token_revokes_the_apps_current_one(
    api: Api, credentials: dict[str, str]
) -> None:
    token = api.client.post("/oauth2/token:generate", json=credentials).json()["accessToken"]
    response = api.client.request("DELETE", "/oauth2/token:revoke", json=credentials)
    assert response.status_code == 204
    assert api.client.get("/v1/conversations", headers={"x-api-key": token}).status_code == 401


def test_another_apps_credentials_cannot_revoke_a_token(
    api: Api, credentials: dict[str, str]
) -> None:
    token = api.client.post("/oauth2/token:generate", json=credentials).json()["accessToken"]
    with api.services.storage.session() as session:
        other, secret = apps_store.create_app(session=session, name="other")
    response = api.client.request(
        "DELETE",
        "/oauth2/token:revoke",
        json={"appId": other.id, "appSecret": secret},
        headers={"x-api-key": token},
    )
    assert response.status_code == 401 and "not issued to this appId" in response.json()["message"]
    assert api.client.get("/v1/conversations", headers={"x-api-key": token}).status_code == 200


@pytest.fixture()
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two API processes' worth of server (two Services, two apps) on one SQLite database."""
    settings = Settings(
        data_dir=data_dir(tmp_path), app_id="shared", app_secret="shared-secret", workers=0
    )
    running = []
    for _ in range(2):
        server, thread, url = start_server(create_app(settings, services=build_services(settings)))
        running.append((server, thread, url))
    yield running[0][2], running[1][2], {"appId": "shared", "appSecret": "shared-secret"}
    for server, thread, _ in running:
        server.should_exit = True
        thread.join(30)


def test_a_token_revoked_on_one_server_is_refused_by_the_other_at_once(
    two_servers: tuple[str, str, dict[str, str]],
) -> None:
    one, two, credentials = two_servers
    token = httpx.post(f"{one}/oauth2/token:generate", json=credentials, timeout=60).json()[
        "accessToken"
    ]
    headers = {"x-api-key": token}
    for _ in range(3):  # the second server has seen the token and the app: both cached there
        assert httpx.get(f"{two}/v1/conversations", headers=headers, timeout=60).status_code == 200
    revoked = httpx.request(
        "DELETE", f"{one}/oauth2/token:revoke", json=credentials, headers=headers
    )
    assert revoked.status_code == 204
    assert httpx.get(f"{two}/v1/conversations", headers=headers, timeout=60).status_code == 401
    assert httpx.get(f"{one}/v1/conversations", headers=headers, timeout=60).status_code == 401


def test_symbl_rest_refreshes_and_revokes_unmodified(api: Api, credentials: dict[str, str]) -> None:
    """The generated client (symbl_rest 1.0.14): its Token model reads ``refershToken``."""
    symbl_rest = pytest.importorskip("symbl_rest")
    config = symbl_rest.Configuration()
    config.host = api.base_url
    client = symbl_rest.ApiClient(config)
    auth = symbl_rest.AuthenticationApi(client)
    token = auth.generate_token(
        symbl_rest.Grant(
            type="application", app_id=credentials["appId"], app_secret=credentials["appSecret"]
        )
    )
    assert token.access_token and token.refersh_token
    renewed = auth.refresh_token(
        symbl_rest.RefreshTokenRequest(
            app_id=credentials["appId"],
            app_secret=credentials["appSecret"],
            refresh_token=token.refersh_token,
        )
    )
    assert renewed.access_token != token.access_token
    config.api_key["x-api-key"] = renewed.access_token
    auth.revoke_token(
        symbl_rest.RevokeTokenRequest(
            app_id=credentials["appId"], app_secret=credentials["appSecret"]
        )
    )
    headers = {"x-api-key": renewed.access_token}
    assert api.client.get("/v1/conversations", headers=headers).status_code == 401
