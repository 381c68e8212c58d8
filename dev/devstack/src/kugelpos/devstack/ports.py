"""Loopback port checks: free-port allocation for tests, in-use checks for fixed ports."""

from __future__ import annotations

import socket
from collections.abc import Mapping

LOOPBACK = "127.0.0.1"


class PortInUseError(RuntimeError):
    """A fixed port the stack needs is already taken by some other process."""


def free_ports(count: int) -> list[int]:
    """Return `count` distinct ports that were free a moment ago.

    All sockets stay bound until every port is chosen, so the kernel cannot hand out the
    same number twice within one call.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """True if something is listening on (or has bound) host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR lets us bind over TIME_WAIT leftovers of a stack we just stopped,
        # which are not real users of the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def ensure_free(ports: Mapping[str, int]) -> None:
    """Fail with one message naming every busy port, before anything is started."""
    busy = {name: port for name, port in ports.items() if port_in_use(port)}
    if busy:
        listing = ", ".join(f"{name} on {port}" for name, port in busy.items())
        raise PortInUseError(
            f"port(s) already in use: {listing}. Another stack may be running "
            "(`make stop`), or some other program holds the port."
        )
