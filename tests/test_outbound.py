"""The outbound guard against every server-side request forgery form the issue lists.

Each URL below points at a real HTTP server listening on loopback that would answer 200
with audio-like bytes; a fetch that is not refused would succeed, so every test fails if
the guard lets its URL through.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from parley.errors import BadRequest, PipelineError
from parley.jobs.fetch import fetch_url
from parley.outbound import OutboundGuard, OutboundRefused, check_url_shape
from parley.storage.audio import LocalAudioStore


class _Answer(BaseHTTPRequestHandler):
    """200 with bytes, or a redirect to ``?to=``."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Answer.hits.append(self.path)
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.end_headers()
            return
        if self.path == "/missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"RIFF" + b"\0" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(host: str, family: socket.AddressFamily = socket.AF_INET) -> Any:
    class Server(ThreadingHTTPServer):
        address_family = family

    server = Server((host, 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = _serve("127.0.0.1")
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def port6() -> Iterator[int | None]:
    try:
        server = _serve("::1", socket.AF_INET6)
    except OSError:
        yield None
        return
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture()
def audio(tmp_path: Path) -> LocalAudioStore:
    return LocalAudioStore(tmp_path / "audio")


def _fetch(url: str, audio: LocalAudioStore, guard: OutboundGuard | None = None) -> Path:
    key = fetch_url(
        url,
        audio=audio,
        conversation_id="c",
        job_id="j",
        timeout=5,
        max_bytes=10**6,
        guard=guard or OutboundGuard(),
    )
    return audio.path(key)


#: Every SSRF form of the issue (and a few more), with {p} the loopback server's port.
SSRF_FORMS = [
    "http://127.0.0.1:{p}/a.wav",
    "http://localhost:{p}/a.wav",
    "http://LOCALHOST.:{p}/a.wav",
    "http://0.0.0.0:{p}/a.wav",
    "http://127.1:{p}/a.wav",
    "http://2130706433:{p}/a.wav",
    "http://0x7f000001:{p}/a.wav",
    "http://017700000001:{p}/a.wav",
    "http://0177.0.0.1:{p}/a.wav",
    "http://user@127.0.0.1:{p}/a.wav",
    "http://user:pass@localhost:{p}/a.wav",
    "http://[::ffff:127.0.0.1]:{p}/a.wav",
    "http://[::ffff:7f00:1]:{p}/a.wav",
    "http://127.0.0.1:{p}/v1/conversations?access_token=x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.1/a.wav",
    "http://172.16.0.1/a.wav",
    "http://192.168.0.1/a.wav",
    "http://100.64.0.1/a.wav",
    "http://224.0.0.1/a.wav",
    "http://[fc00::1]/a.wav",
    "http://[2002:7f00:1::]/a.wav",  # 6to4 wrapping 127.0.0.1
    "http://240.0.0.1/a.wav",
    # IPv6 forms that embed an IPv4 address other than mapped/6to4/Teredo, and the
    # special-purpose ranges ``ipaddress`` calls global
    "http://[::127.0.0.1]:{p}/a.wav",  # IPv4-compatible (deprecated ::/96)
    "http://[::7f00:1]:{p}/a.wav",
    "http://[::a9fe:a9fe]/latest/meta-data/",
    "http://[::808:808]/a.wav",  # IPv4-compatible is refused even around a public address
    "http://[64:ff9b::7f00:1]:{p}/a.wav",  # NAT64 well-known prefix around 127.0.0.1
    "http://[64:ff9b::127.0.0.1]:{p}/a.wav",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    "http://[64:ff9b::10.0.0.1]/a.wav",
    "http://[64:ff9b::c0a8:1]/a.wav",
    "http://[64:ff9b:1::a00:1]/a.wav",  # local-use NAT64 prefix
    "http://[64:ff9b:1::808:808]/a.wav",
    "http://[fec0::1]/a.wav",  # site-local (deprecated)
    "http://[3fff::1]/a.wav",  # documentation
    "http://[5f00::1]/a.wav",  # outside global unicast
    "http://192.0.0.8/a.wav",  # IETF protocol assignments
    "http://192.88.99.1/a.wav",  # 6to4 relay anycast
]


@pytest.mark.parametrize("form", SSRF_FORMS)
def test_ssrf_form_is_refused_when_fetched(form: str, port: int, audio: LocalAudioStore) -> None:
    hits = len(_Answer.hits)
    with pytest.raises(PipelineError) as caught:
        _fetch(form.format(p=port), audio)
    assert caught.value.message.startswith("The media URL was not fetched")
    assert len(_Answer.hits) == hits  # nothing reached the server
    assert not list((audio.root / "c").glob("*"))


def test_ipv6_loopback_is_refused(port6: int | None, audio: LocalAudioStore) -> None:
    if port6 is None:
        pytest.skip("no IPv6 loopback here")
    with pytest.raises(PipelineError, match="only public addresses"):
        _fetch(f"http://[::1]:{port6}/a.wav", audio)
    assert _fetch(f"http://[::1]:{port6}/a.wav", audio, OutboundGuard(["::1"])).exists()


@pytest.mark.parametrize("form", SSRF_FORMS)
def test_literal_forms_are_refused_at_the_edge(form: str) -> None:
    """Before a job exists: a literal address (in any spelling) or localhost gives a 400."""
    url = form.format(p=8000)
    with pytest.raises(OutboundRefused):
        OutboundGuard().check_literal("url", url)


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::808:808", "64:ff9b::8.8.8.8", "::ffff:8.8.8.8", "2606:4700::1111", "8.8.8.8"],
)
def test_public_addresses_in_embedded_forms_are_allowed(address: str) -> None:
    """NAT64 to a public IPv4 address is how an IPv6-only host reaches it: not refused."""
    assert OutboundGuard().allowed(ipaddress.ip_address(address))


def test_a_nat64_answer_for_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS64 synthesises 64:ff9b::7f00:1 for a name whose A record is 127.0.0.1."""
    real = socket.getaddrinfo

    def dns64(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "dns64.example":
            return real("64:ff9b::7f00:1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns64)
    with pytest.raises(OutboundRefused):
        OutboundGuard().resolve("dns64.example", 80)
    # the allow-list names the IPv4 network, and so covers its NAT64 spelling
    assert OutboundGuard(["127.0.0.0/8"]).resolve("dns64.example", 80) == ["64:ff9b::7f00:1"]


def test_redirect_to_loopback_is_refused_on_the_hop(port: int, audio: LocalAudioStore) -> None:
    """The first server is allowed (by name), the hop to another loopback address is not."""
    guard = OutboundGuard(["localhost"])
    target = f"http://127.0.0.1:{port}/a.wav"
    with pytest.raises(PipelineError, match="only public addresses"):
        _fetch(f"http://localhost:{port}/redirect?to={target}", audio, guard)
    # and followed when the hop is allowed too
    allowed = OutboundGuard(["localhost", "127.0.0.1/32"])
    assert _fetch(f"http://localhost:{port}/redirect?to={target}", audio, allowed).exists()


def test_allow_list_reenables_private_targets(port: int, audio: LocalAudioStore) -> None:
    path = _fetch(f"http://127.0.0.1:{port}/a.wav", audio, OutboundGuard(["127.0.0.0/8"]))
    assert path.read_bytes().startswith(b"RIFF")


def test_dns_rebinding_cannot_slip_past(
    port: int, audio: LocalAudioStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that answers public first and loopback after: Parley resolves once, checks,
    and connects to exactly the address it checked."""
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])
    lookups: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            lookups.append(host)
            return real(next(answers), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    hits = len(_Answer.hits)
    with pytest.raises(PipelineError) as caught:
        fetch_url(
            f"http://rebind.example:{port}/a.wav",
            audio=audio,
            conversation_id="c",
            job_id="j",
            timeout=1,
            max_bytes=10**6,
            guard=OutboundGuard(),
        )
    assert lookups == ["rebind.example"]  # one resolution, then the checked address
    assert len(_Answer.hits) == hits
    assert "could not be reached" in caught.value.message or "in time" in caught.value.message


def test_a_name_with_any_private_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def mixed(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mixed.example":
            return real("203.0.113.7", port, *args, **kwargs) + real(
                "127.0.0.1", port, *args, **kwargs
            )
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with pytest.raises(OutboundRefused):
        OutboundGuard().resolve("mixed.example", 80)


def test_failure_reasons_say_nothing_about_the_network(port: int, audio: LocalAudioStore) -> None:
    allow = OutboundGuard(["127.0.0.0/8"])
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    for url in (f"http://127.0.0.1:{closed_port}/a.wav", f"http://127.0.0.1:{port}/missing"):
        with pytest.raises(PipelineError) as caught:
            _fetch(url, audio, allow)
        reason = caught.value.message
        assert reason.startswith("Fetching the media URL failed")
        assert "Error" not in reason and "127.0.0.1" not in reason and str(port) not in reason


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a\r\nHost: evil",
        "http://example.com/a b.wav",
        "http://exa\tmple.com/",
        "ftp://example.com/a.wav",
        "http:///a.wav",
        "http://example.com:99999/a.wav",
        "http://[::1/a.wav",
        "https://" + "a" * 5000 + ".com/",
    ],
)
def test_malformed_urls_are_bad_requests(url: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_url_shape("url", url)
    assert caught.value.message.startswith('"url"')
