"""Which addresses the portal may connect to on a user's word (a logger's host, a webhook's URL)."""

import ipaddress
import socket
from collections.abc import Iterable


def ip_allowed(
    address: str, allowed_networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    """Public addresses, and the private or loopback ranges an operator listed: a user must not make
    the portal probe or call its own network (SSRF)."""
    ip = ipaddress.ip_address(address)
    if any(ip in net for net in allowed_networks):
        return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` names now (an IP names itself); an empty list if it names none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
