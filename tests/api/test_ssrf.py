"""Server-side request forgery through the API, on a server without the test allow-list
(only ``localhost`` is allowed, so a redirect from it can be tried)."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.api.app import create_app
from parley.config import Settings
from parley.services import build_services
from tests.conftest import (
    APP_ID,
    APP_SECRET,
    data_dir,
    start_server,
    wait_for_job,
    wait_for_token,
)
from tests.receiver import receiver
from tests.waiting import until


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    settings = Settings(
        data_dir=data_dir(tmp_path_factory.mktemp("strict")),
        app_id=APP_ID,
        app_secret=APP_SECRET,
        workers=1,
        outbound_allow="localhost",
    )
    server, thread, url = start_server(create_app(settings, services=build_services(settings)))
    yield url, {"x-api-key": wait_for_token(url)}
    server.should_exit = True
    thread.join(30)


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path.split("to=", 1)[1])
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "017700000001",
        "user@127.0.0.1",
        "[::1]",
        "0.0.0.0",
        "169.254.169.254",
        "10.1.2.3",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[::a9fe:a9fe]",
        "[64:ff9b::7f00:1]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::a00:1]",
    ],
)
def test_literal_private_urls_are_400_and_no_job_exists(
    strict: tuple[str, dict[str, str]], host: str
) -> None:
    url, auth = strict
    for body in (
        {"url": f"http://{host}:8000/v1/conversations?access_token=x"},
        {"url": "https://example.com/a.wav", "webhookUrl": f"http://{host}:9/hook"},
    ):
        response = httpx.post(f"{url}/v1/process/audio/url", json=body, headers=auth, timeout=60)
        assert response.status_code == 400, (host, response.text)
        assert "only public addresses" in response.json()["message"]
    assert (
        httpx.get(f"{url}/v1/conversations", headers=auth, timeout=60).json()["conversations"] == []
    )


def test_redirect_to_parleys_own_port_fails_the_job_with_a_plain_reason(
    strict: tuple[str, dict[str, str]],
) -> None:
    url, auth = strict
    own_port = url.rsplit(":", 1)[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = (
            f"http://localhost:{server.server_address[1]}/r?to=http://127.0.0.1:{own_port}/health"
        )
        with receiver() as hook:
            response = httpx.post(
                f"{url}/v1/process/audio/url",
                json={"url": start, "webhookUrl": hook.url.replace("127.0.0.1", "localhost")},
                headers=auth,
            )
            assert response.status_code == 201, response.text
            with httpx.Client(base_url=url, timeout=60) as client:
                job = wait_for_job(client, response.json()["jobId"], auth, timeout=120)
        assert job["status"] == "failed"
        assert "only public addresses" in job["reason"]
        assert own_port not in job["reason"] and "Error" not in job["reason"]
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_to_a_private_name_is_refused_not_retried(
    strict: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """A name (not a literal) that resolves to loopback passes the edge, then the guard
    refuses it at delivery: one attempt, a plain error, nothing received."""
    url, auth = strict
    with receiver() as hook:
        name_url = hook.url.replace("127.0.0.1", "localhost.localdomain")
        response = httpx.post(
            f"{url}/v1/process/text",
            json={"messages": [{"payload": {"content": "Hello there."}}], "webhookUrl": name_url},
            headers=auth,
        )
        if response.status_code == 400:  # the name is a local one: refused at the edge already
            assert "only public addresses" in response.json()["message"]
            return
        job_id = response.json()["jobId"]

        def settled() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = httpx.get(
                f"{url}/v1/webhooks/deliveries", params={"jobId": job_id}, headers=auth
            ).json()["deliveries"]
            return rows if rows and all(r["state"] != "pending" for r in rows) else []

        rows = until(settled, timeout=120, what="the deliveries settled")
        assert hook.bodies() == []
    assert rows and all(r["state"] == "failed" and r["attempts"] == 1 for r in rows)
