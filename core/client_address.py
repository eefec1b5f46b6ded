"""The client's address, as every per-client control sees it (limits, throttles, audit, logs).

Behind a reverse proxy `REMOTE_ADDR` is the proxy, so every shopper would share one
bucket; taking `X-Forwarded-For` from anyone would let a client pick its own bucket. So
`X-Forwarded-For` is read only when the direct peer is one of `TRUSTED_PROXIES`, and then
from the right: each trusted hop appends the address it saw, so the right-most entry that
is not itself a trusted proxy is the first address nobody on our side can have forged.

`TRUSTED_PROXIES` holds IP addresses or networks, plus the word `unix` for a proxy that
talks to us over a Unix socket (gunicorn then sets `REMOTE_ADDR` to ""). A request with no
usable address is the literal client "unknown": one client like any other, so limits still
apply to it (all such requests share that one bucket) instead of failing open.
"""

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

UNKNOWN = "unknown"
UNIX_SOCKET = "unix"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str], setting: str) -> tuple[Network, ...]:
    """IP addresses or CIDR networks, or ImproperlyConfigured naming the setting and value."""
    networks = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{setting}: {text!r} is not an IP address or network (e.g. 10.0.0.0/8)."
            ) from exc
    return tuple(networks)


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]
    unix_socket: bool

    def trusts(self, address: str) -> bool:
        if address == "":
            return self.unix_socket
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.networks)


def parse_trusted_proxies(values: Iterable[str]) -> TrustedProxies:
    values = [v.strip() for v in values if v.strip()]
    unix_socket = any(v.lower() == UNIX_SOCKET for v in values)
    networks = parse_networks(
        (v for v in values if v.lower() != UNIX_SOCKET), setting="TRUSTED_PROXIES"
    )
    return TrustedProxies(networks=networks, unix_socket=unix_socket)


@functools.lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> TrustedProxies:
    # Parsed once per distinct value (settings are validated at start-up, see
    # config.settings); keyed by the value so that tests overriding it are honoured.
    return parse_trusted_proxies(values)


def trusted_proxies() -> TrustedProxies:
    return _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def client_address(request) -> str:
    """The client's IP address as text, or "unknown" when the request carries none."""
    return _resolve(request.META)


def _resolve(meta) -> str:
    proxies = trusted_proxies()
    peer = str(meta.get("REMOTE_ADDR") or "").strip()
    if proxies.trusts(peer):
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", "")).strip()
        hops = forwarded.split(",") if forwarded else []
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                # Garbage where an address should be: whoever wrote it is not ours, and
                # nothing to its left can be believed either.
                return UNKNOWN
            if not proxies.trusts(str(ip)):
                return str(ip)
        # Only trusted hops (or no header): the nearest proxy is the client we know of.
        if peer == "":
            return UNKNOWN
    ip = _ip(peer)
    return str(ip) if ip is not None else UNKNOWN
