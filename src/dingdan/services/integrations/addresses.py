"""Where a webhook may be posted: an http(s) URL whose host is a public address.

A URL naming a loopback, private, link-local (cloud metadata), multicast or reserved
address would let whoever registers an endpoint make the server call inside its own
network. It is refused when the endpoint is saved (a literal address, or a name that
resolves to one) and checked again before each delivery, after DNS, since a name may point
elsewhere later. ``DINGDAN_WEBHOOK_ALLOW_PRIVATE=true`` lifts the rule (development and
tests post to 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from dingdan.config import get_settings
from dingdan.domain.shared.errors import FieldErrors

MAX_URL = 2000


def private_allowed() -> bool:
    return get_settings().webhook_allow_private


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int | None) -> list[str]:
    """Every address ``host`` stands for (an address stands for itself); [] when the name
    does not resolve."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def refused_address(url: str) -> str | None:
    """The non-public address ``url``'s host resolves to, if any (None when private
    addresses are allowed, or every address is public). A name that does not resolve is
    not refused here: the attempt itself will fail."""
    if private_allowed():
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return host
    for address in resolve(host, parts.port):
        if not is_public(address):
            return address
    return None


def check_url(url: Any, errors: FieldErrors, field: str = "url") -> None:
    if not isinstance(url, str) or not url.strip():
        errors.add(field, "required")
        return
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(url) > MAX_URL
        or any(c.isspace() or ord(c) < 32 for c in url)
    ):
        errors.add(field, "invalid_webhook_url", max=MAX_URL)
        return
    address = refused_address(url)
    if address is not None:
        errors.add(field, "private_address", address=address)
