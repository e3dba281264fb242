"""Who is asking: the client address of a request, and whether it may deliver reports. Pure functions.

``X-Forwarded-For`` is anyone's to forge, so it counts only when the peer (``REMOTE_ADDR``) is one of our
trusted proxies; then the client is the right-most address in the chain that is not itself a trusted proxy
(everything to the left of it was written by parties we do not trust).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from supersms.settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_BRACKETED = re.compile(r"\[(?P<address>[^\]]+)\](?::\d+)?", re.ASCII)


def parse_address(text: str) -> Address | None:
    """An IP address from ``text`` (IPv4-mapped IPv6 becomes IPv4), or None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_within(address: Address, networks: Iterable[Network]) -> bool:
    """True when ``address`` belongs to any of ``networks`` (an IPv4 address never matches an IPv6 network)."""
    return any(address in network for network in networks)


def client_address(
    remote_addr: str, forwarded_for: str | None, trusted_proxies: Iterable[Network]
) -> Address | None:
    """The address of the client that made the request, or None when it cannot be told.

    ``forwarded_for`` is the ``X-Forwarded-For`` header (several headers joined by commas). A garbled entry
    in a chain we would have to trust makes the client unknown, never a guess.
    """
    peer = parse_address(remote_addr)
    proxies = tuple(trusted_proxies)
    if peer is None or not forwarded_for or not is_within(peer, proxies):
        return peer
    chain = [item for item in (part.strip() for part in forwarded_for.split(",")) if item]
    client = peer
    for item in reversed(chain):
        hop = parse_address(_without_port(item))
        if hop is None or not is_within(hop, proxies):
            return hop
        client = hop  # a proxy of ours: look further left
    return client


def _without_port(hop: str) -> str:
    """The address of an ``X-Forwarded-For`` entry that some proxies write with a port: ``1.2.3.4:5678``,
    ``[2001:db8::1]:5678`` or ``[2001:db8::1]`` (a bare IPv6 address has colons of its own)."""
    bracketed = _BRACKETED.fullmatch(hop)
    if bracketed:
        return bracketed["address"]
    host, colon, port = hop.partition(":")
    return host if colon and port.isdigit() else hop


def is_allowed(address: Address | None, allow: Iterable[Network]) -> bool:
    """True when a known ``address`` is inside the report allowlist."""
    return address is not None and is_within(address, allow)
