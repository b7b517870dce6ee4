"""The one guard for every HTTP request Parley makes to a URL it was given.

Media URLs, webhook URLs and the LLM endpoint all go through ``OutboundGuard``:

* the host is resolved and every address is checked: loopback, link-local (cloud
  metadata at 169.254.169.254), private, shared, multicast, reserved, unspecified,
  IPv6 outside global unicast (IPv4-compatible ``::127.0.0.1``, site-local) and
  IPv4-mapped/NAT64/6to4/Teredo forms of those are refused unless the allow-list names them;
* the connection goes to the address that was checked (the check runs inside the
  connection pool's network backend), so a DNS answer that changes between check and
  connect (rebinding) cannot slip past, and every redirect hop is checked the same way;
* proxies from the environment are ignored (a proxy would be connected instead).

Literal addresses in their odd spellings (``127.1``, ``2130706433``, ``0x7f000001``,
``017700000001``) are what the C resolver turns them into, so they are caught too.
Failures raise ``OutboundRefused`` with a message about the user's URL, never about
the network behind Parley.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from parley.errors import BadRequest

__all__ = ["OutboundGuard", "OutboundRefused", "check_url_shape", "configured_post"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED = "points to a loopback, private or reserved address; only public addresses are fetched"
MAX_URL_LENGTH = 4096


class OutboundRefused(BadRequest):
    """A URL Parley will not connect to. The message is safe to show the user."""


#: NAT64's well-known prefix (RFC 6052): the gateway connects to the IPv4 address in the
#: last 32 bits, so the address is as public as that IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Global unicast IPv6 (IANA): everything else is reserved, local or special-purpose. The
#: IPv4-compatible ``::/96`` (deprecated; ``::127.0.0.1``), site-local ``fec0::/10`` and
#: local-use NAT64 ``64:ff9b:1::/48`` (whose IPv4 may sit anywhere) all lie outside it;
#: ``ipaddress`` calls some of them global.
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
#: Special-purpose ranges that this Python's ``is_global`` still calls global.
_NOT_PUBLIC: tuple[Network, ...] = (
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("192.88.99.0/24"),  # 6to4 relay anycast (deprecated)
    ipaddress.ip_network("3fff::/20"),  # documentation (RFC 9637)
)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def is_public(ip: IPAddress) -> bool:
    """Globally routable unicast, in every spelling of the address.

    An IPv6 address that wraps an IPv4 one (mapped, NAT64, 6to4, Teredo) is judged by
    the IPv4 address, which is where the connection ends up; any other IPv6 address must
    be global unicast.
    """
    inner = _unwrap(ip)
    if not isinstance(ip, ipaddress.IPv6Address) or inner is ip:
        return _is_public_one(ip)
    # mapped and NAT64 addresses lie outside 2000::/3 and are only their IPv4 address;
    # 6to4 and Teredo addresses are themselves routed, so both must be public
    embedded_only = ip.ipv4_mapped is not None or ip in _NAT64
    return _is_public_one(inner) and (embedded_only or _is_public_one(ip))


def _is_public_one(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST:
        return False
    if any(ip in net for net in _NOT_PUBLIC):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def _literal(host: str) -> IPAddress | None:
    """The address a host names without DNS (any spelling the C resolver accepts)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%")[0])


def check_url_shape(name: str, value: Any) -> str:
    """An absolute http(s) URL with a host, no control characters and a sane length.

    This is the cheap check done at the edge, before a job exists: no DNS lookup (that
    happens when the URL is fetched), but a literal address that is not public is refused
    already. Raises ``BadRequest`` naming the field.
    """
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f'"{name}" must be a non-empty URL')
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise BadRequest(f'"{name}" must be at most {MAX_URL_LENGTH} characters')
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise BadRequest(f'"{name}" must not contain spaces or control characters')
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise BadRequest(f'"{name}" is not a valid URL') from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise BadRequest(f'"{name}" must be an absolute http or https URL')
    if port == 0:
        raise BadRequest(f'"{name}" has an invalid port')
    try:
        httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        raise BadRequest(f'"{name}" is not a valid URL') from None
    return str(value)


class OutboundGuard:
    """Decides which addresses Parley may connect to, and builds clients that obey.

    ``allow`` holds CIDRs (``10.0.0.0/8``, ``::1``) and host names (``minio.internal``)
    that are reachable even though they are not public: for deployments whose storage
    or webhook receivers live on the private network, and for the test suite.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.networks: list[Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    @classmethod
    def from_setting(cls, value: str | Sequence[str] | None) -> OutboundGuard:
        """From ``PARLEY_OUTBOUND_ALLOW``: entries separated by commas or spaces."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        return cls(value or ())

    def allowed(self, ip: IPAddress, host: str = "") -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        if any(ip in net or _unwrap(ip) in net for net in self.networks):
            return True
        return is_public(ip)

    def check_literal(self, name: str, url: str) -> None:
        """Refuse, at the edge, a URL whose host is a literal non-public address."""
        host = urlsplit(url).hostname or ""
        if host.lower().rstrip(".") in self.hosts:
            return
        ip = ipaddress.ip_address("127.0.0.1") if _is_local_name(host) else _literal(host)
        if ip is not None and not self.allowed(ip, host):
            raise OutboundRefused(f'"{name}" {REFUSED}')

    def resolve(self, host: str, port: int) -> list[str]:
        """The checked addresses of a host; ``OutboundRefused`` if any is not allowed.

        All answers must pass, not just one: otherwise a name with one public and one
        private answer would reach the private one when the public one does not connect.
        """
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError):
            raise OutboundRefused("The URL's host name could not be resolved.") from None
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0]).split("%")[0]
            if not self.allowed(ipaddress.ip_address(address), host):
                raise OutboundRefused(f"The URL {REFUSED}.")
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise OutboundRefused("The URL's host name could not be resolved.")
        return addresses

    def client(
        self, *, timeout: float | httpx.Timeout, follow_redirects: bool = False, **kwargs: Any
    ) -> httpx.Client:
        """An httpx client whose every connection (redirect hops too) is checked."""
        return httpx.Client(
            transport=_GuardedTransport(self),
            timeout=timeout,
            follow_redirects=follow_redirects,
            trust_env=False,
            **kwargs,
        )


def _is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


class _GuardedBackend(httpcore.NetworkBackend):
    """The pool's connect step: resolve, check, then connect to a checked address."""

    def __init__(self, guard: OutboundGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self._guard.resolve(host, port):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise OutboundRefused("Unix sockets are never connected to.")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: OutboundGuard) -> None:
        super().__init__()
        pool = self._pool
        # httpx builds its httpcore pool without a backend argument; swap in ours.
        assert hasattr(pool, "_network_backend"), "httpcore changed: update the guard"
        pool._network_backend = _GuardedBackend(guard)


def configured_post(url: str, **kwargs: Any) -> httpx.Response:
    """A POST to an operator-configured endpoint (the LLM): its own host is trusted,
    as the operator named it, but no redirect is followed and no proxy used."""
    host = urlsplit(url).hostname or ""
    timeout = kwargs.pop("timeout", 30.0)
    with OutboundGuard([host]).client(timeout=timeout) as client:
        return client.post(url, **kwargs)
