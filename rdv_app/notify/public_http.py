"""Outgoing HTTP to addresses that organisations type (webhooks) reaches the public internet only.

An address checked when it is saved proves nothing about where a request goes: a name may resolve to
this machine or to the internal network, today or only later (DNS rebinding), and `127.1`, `2130706433`
or `0x7f000001` are this machine too. So the check happens when the connection is made: the host is
resolved once, every address it resolves to must be global, and the connection goes to the address that
was checked (TLS still verifies the certificate against the name). Proxies from the environment are not
used: they would resolve the name themselves.

The development allowance: when the app itself runs without https (`RDV_PUBLIC_URL` in http://, as in
`make run` and the tests), loopback addresses are accepted as well, and nothing else internal.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

Resolver = Callable[..., list[tuple[Any, ...]]]


class InternalAddressRefused(Exception):
    """The host leads to an address of this machine or of an internal network."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"adresse refusée : {host} mène à une adresse de réseau interne ({address})")
        self.host, self.address = host, address


def address_allowed(address: str, *, allow_loopback: bool) -> bool:
    """Whether a request may go to this IP address: a global one, or a loopback one when allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_loopback and ip.is_loopback:
        return True
    return ip.is_global and not ip.is_multicast


def numeric_ipv4(host: str) -> str | None:
    """The dotted form of a host that the system reads as an IPv4 address ("127.1", "2130706433",
    "0x7f000001", "0177.0.0.1"...), or None for a name."""
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def checked_address(host: str, port: int, *, allow_loopback: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """Resolves `host` once and returns the address to connect to; raises InternalAddressRefused when any
    address it resolves to is not allowed."""
    addresses: Iterable[str] = [info[4][0] for info in resolve(host, port, type=socket.SOCK_STREAM)]
    addresses = list(dict.fromkeys(addresses))
    if not addresses:
        raise OSError(f"{host} ne correspond à aucune adresse")
    for address in addresses:
        if not address_allowed(address, allow_loopback=allow_loopback):
            raise InternalAddressRefused(host, address)
    return addresses[0]


class _PublicOnlyBackend(httpcore.SyncBackend):
    def __init__(self, allow_loopback: bool, resolve: Resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolve

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            address = checked_address(host, port, allow_loopback=self.allow_loopback, resolve=self.resolve)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class PublicOnlyTransport(httpx.HTTPTransport):
    """An httpx transport whose connections go only to checked addresses (see the module's docstring)."""

    def __init__(self, *, allow_loopback: bool, resolve: Resolver = socket.getaddrinfo) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend: the same pool, with ours.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_PublicOnlyBackend(allow_loopback, resolve))
