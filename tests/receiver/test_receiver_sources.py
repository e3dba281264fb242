"""The client address of a request and the allowlist: X-Forwarded-For counts only from our own proxies."""

from __future__ import annotations

import ipaddress

import pytest

from supersms.receiver.sources import client_address, is_allowed

PROXIES = (ipaddress.ip_network("10.0.0.1/32"), ipaddress.ip_network("10.0.1.0/24"))
ALLOW = (ipaddress.ip_network("211.233.70.235/32"), ipaddress.ip_network("192.0.2.0/24"))


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "client"),
    [
        ("211.233.70.235", None, "211.233.70.235"),
        ("211.233.70.235", "", "211.233.70.235"),
        # an untrusted peer's header is ignored, whatever it claims
        ("198.51.100.7", "211.233.70.235", "198.51.100.7"),
        # from a trusted proxy: the right-most address that is not one of our proxies
        ("10.0.0.1", "211.233.70.235", "211.233.70.235"),
        ("10.0.0.1", "211.233.70.235, 10.0.1.9", "211.233.70.235"),
        ("10.0.0.1", "211.233.70.235,10.0.1.9,10.0.1.8", "211.233.70.235"),
        # what a client wrote to the left of the first untrusted hop is not believed
        ("10.0.0.1", "211.233.70.235, 198.51.100.7", "198.51.100.7"),
        # a trusted proxy with an empty chain, or a chain of proxies only: the left-most we know
        ("10.0.0.1", " , ", "10.0.0.1"),
        ("10.0.0.1", "10.0.1.5, 10.0.1.6", "10.0.1.5"),
        # IPv4-mapped IPv6 is the IPv4 address
        ("::ffff:211.233.70.235", None, "211.233.70.235"),
        ("10.0.0.1", "::ffff:211.233.70.235", "211.233.70.235"),
        ("2001:db8::1", None, "2001:db8::1"),
        # some proxies write the client's port too
        ("10.0.0.1", "211.233.70.235:443", "211.233.70.235"),
        ("10.0.0.1", "[2001:db8::1]:443, 10.0.1.9:80", "2001:db8::1"),
        ("10.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_trusts_forwarded_for_only_from_configured_proxies(
    remote_addr: str, forwarded_for: str | None, client: str
) -> None:
    assert client_address(remote_addr, forwarded_for, PROXIES) == ipaddress.ip_address(client)


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for"),
    [
        ("", None),
        ("not-an-ip", None),
        ("10.0.0.1", "garbage"),
        ("10.0.0.1", "211.233.70.235:https"),
        ("10.0.0.1", "[2001:db8::1"),
        ("10.0.0.1", "211.233.70.235, 10.0.1.9, unknown"),
    ],
)
def test_a_client_that_cannot_be_told_is_unknown(remote_addr: str, forwarded_for: str | None) -> None:
    assert client_address(remote_addr, forwarded_for, PROXIES) is None


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("211.233.70.235", True),
        ("211.233.70.236", False),
        ("192.0.2.0", True),
        ("192.0.2.255", True),
        ("192.0.3.0", False),
        ("192.0.1.255", False),
        ("::ffff:c000:0201", False),  # an IPv6 address never matches an IPv4 network (mapping is done before)
        (None, False),
    ],
)
def test_allowlist_holds_at_its_boundaries(address: str | None, allowed: bool) -> None:
    parsed = None if address is None else ipaddress.ip_address(address)
    assert is_allowed(parsed, ALLOW) is allowed
