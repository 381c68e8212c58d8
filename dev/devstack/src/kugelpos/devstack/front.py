"""A round-robin TCP front for services run as several replicas (what a Kubernetes Service does
for its pods): `python -m kugelpos.devstack.front --route 127.0.0.1:9000=127.0.0.1:8001,...`.

Each route listens on one port and hands every new connection to the next replica in turn; a
replica that refuses the connection (it is down) is skipped for DOWN_SECONDS and the next one
takes it, so a client only sees a dropped connection for requests that were in flight on a
replica when it died. Connections, not requests, are balanced (as kube-proxy does): a client
keeping a connection alive stays with its replica until the replica goes away.

Development only: the stack starts one when it runs more than one replica of its services.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

CONNECT_TIMEOUT_SECONDS = 2.0
DOWN_SECONDS = 1.0
CHUNK = 65536


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.strip().rpartition(":")
    return host or "127.0.0.1", int(port)


@dataclass
class Route:
    listen: tuple[str, int]
    backends: list[tuple[str, int]]
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _down: dict[tuple[str, int], float] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str) -> Route:
        listen, sep, backends = value.partition("=")
        if not sep or not backends:
            raise argparse.ArgumentTypeError(f"expected HOST:PORT=HOST:PORT,..., got {value!r}")
        return cls(_address(listen), [_address(b) for b in backends.split(",") if b.strip()])

    def order(self) -> list[tuple[str, int]]:
        """The backends to try for a new connection: the next in turn first, those that
        refused a connection lately last."""
        start = next(self._turn) % len(self.backends)
        turn = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        return sorted(turn, key=lambda b: self._down.get(b, 0.0) > now)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for backend in self.order():
            try:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(*backend), CONNECT_TIMEOUT_SECONDS
                )
            except (OSError, TimeoutError):
                self._down[backend] = time.monotonic() + DOWN_SECONDS
                continue
            self._down.pop(backend, None)
            return streams
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def handler(
    route: Route,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await route.connect()
        if upstream is None:  # no replica is up: the client sees a dropped connection
            await _close(writer)
            return
        up_reader, up_writer = upstream
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        # Either side ending ends both: a replica that dies drops its clients' connections.
        _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await _close(up_writer)
        await _close(writer)

    return handle


async def serve(routes: Sequence[Route]) -> None:
    servers = [
        await asyncio.start_server(handler(route), *route.listen, reuse_address=True)
        for route in routes
    ]
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.devstack.front")
    parser.add_argument(
        "--route",
        dest="routes",
        action="append",
        type=Route.parse,
        required=True,
        metavar="HOST:PORT=HOST:PORT,...",
        help="listen on the first address, spread connections over the others (repeatable)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.routes))


if __name__ == "__main__":
    main()
