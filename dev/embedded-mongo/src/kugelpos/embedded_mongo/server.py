"""MongoDB wire-protocol server for the local stack: `python -m kugelpos.embedded_mongo`.

Runs mongoeco's proxy over the memory engine (tests) or the SQLite engine (make run) until
SIGTERM/SIGINT, then closes the server so SQLite is flushed cleanly. Transactions run one at a
time, alone (`gate`): the engines do not isolate them from other sessions themselves.
Unique indexes are checked through an index, not a scan (`engines`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from kugelpos.embedded_mongo.engines import engine_for
from kugelpos.embedded_mongo.gate import GatedProxyServer

ENGINES = ("memory", "sqlite")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.embedded_mongo")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--engine", choices=ENGINES, default="memory")
    parser.add_argument("--path", type=Path, help="SQLite file (sqlite engine only)")
    args = parser.parse_args(argv)
    if args.engine == "sqlite" and args.path is None:
        parser.error("--path is required with --engine sqlite")
    return args


async def serve(args: argparse.Namespace) -> None:
    if args.engine == "sqlite":
        args.path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(args.engine, str(args.path) if args.path else None)
    server = GatedProxyServer(engine=engine, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    address = await server.start()
    print(f"mongoeco {args.engine} engine serving {address.uri}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()
        print("mongoeco stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(_parse(argv)))


if __name__ == "__main__":
    main()
