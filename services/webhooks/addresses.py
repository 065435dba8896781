"""Where a webhook may be sent: only http(s) to public addresses (no SSRF).

A partner chooses the URL, and the request leaves from inside our network, so a URL
pointing at an internal address (the store, the broker, another service, a cloud
metadata endpoint) must never be called. The rule here is pure; the transport
(transport.py) applies it to every address a host name resolves to, at every
delivery, and connects to the address it checked.

Refused: loopback, private (RFC 1918), shared/CGNAT (100.64/10), link-local (which
holds 169.254.169.254, the usual metadata address), "this network", documentation,
benchmarking, IETF protocol assignments (192.0.0.0/24, which holds 192.0.0.192),
multicast, reserved and broadcast ranges; in IPv6 everything outside global unicast
2000::/3 (loopback, unique-local fc00::/7 which holds fd00:ec2::254, link-local,
multicast…) and the special ranges inside it; IPv4 addresses wrapped in IPv6
(mapped ::ffff:0:0/96, 6to4 2002::/16, NAT64 64:ff9b::/96) are unwrapped and judged
as IPv4. An operator may allow some hosts or ranges anyway (WEBHOOKS_ALLOW_HOSTS:
tests and `make run`, never production).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_CHARS = 2048

BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (CGNAT; holds 100.100.100.200, a metadata address)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (cloud metadata 169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments (holds 192.0.0.192, a metadata address)
        "192.0.2.0/24",  # documentation
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "192.175.48.0/24",  # AS112
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
    )
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking…)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
MAPPED_V6 = ipaddress.IPv6Network("::ffff:0:0/96")
NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(ValueError):
    """A URL or address a webhook may not be sent to; `reason` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if ip in MAPPED_V6:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64_V6:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """May anyone's webhook reach this address without an operator's say-so?"""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_v4(ip)
        if inner is not None:
            return is_public(inner)
        return ip in GLOBAL_UNICAST_V6 and not any(ip in net for net in BLOCKED_V6)
    return not any(ip in net for net in BLOCKED_V4)


@dataclass(frozen=True)
class AddressPolicy:
    """The rule plus the operator's exceptions (WEBHOOKS_ALLOW_HOSTS)."""

    allowed_networks: tuple[Network, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, text: str) -> AddressPolicy:
        """`127.0.0.0/8, ::1, receiver.test` → networks and host names (ValueError if malformed)."""
        networks: list[Network] = []
        hosts: set[str] = set()
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if "/" in entry or ":" in entry or " " in entry:
                    raise ValueError(f"WEBHOOKS_ALLOW_HOSTS: {entry!r} is neither a host name nor a CIDR") from None
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def host_allowed(self, host: str) -> bool:
        """Did the operator allow this host name whatever it resolves to?"""
        return host.lower().rstrip(".") in self.allowed_hosts

    def check_address(self, host: str, address: str) -> None:
        """Refuse `address` (one that `host` resolved to) unless it is public or allowed."""
        if self.host_allowed(host):
            return
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            raise AddressRefused("not-an-address", address) from None
        if is_public(ip) or any(ip in net for net in self.allowed_networks):
            return
        raise AddressRefused("non-public-address", str(ip))

    def check_url(self, url: str) -> str:
        """Refuse a URL that is not http(s), carries credentials, has no host, or names a
        non-public address literally; returns its host (names are checked when resolved)."""
        if len(url) > MAX_URL_CHARS:
            raise AddressRefused("too-long")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise AddressRefused("malformed") from None
        if parts.scheme not in ("http", "https"):
            raise AddressRefused("scheme")
        if parts.username is not None or parts.password is not None:
            raise AddressRefused("credentials")
        host = parts.hostname
        if not host:
            raise AddressRefused("no-host")
        if any(c.isspace() for c in url) or parts.fragment:
            raise AddressRefused("malformed")
        if _looks_numeric(host):
            self.check_address(host, host)  # refuses non-canonical forms (2130706433, 0x7f.1) too
        return host


def _looks_numeric(host: str) -> bool:
    """An address literal, or a number some resolvers would read as one."""
    if ":" in host:
        return True
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return last.isdigit() or last.lower().startswith("0x")
