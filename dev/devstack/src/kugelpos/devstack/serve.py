"""`python -m kugelpos.devstack.serve module:app --host 127.0.0.1 --port 8000`: uvicorn, as the
launcher runs each service, without uvicorn's tenth-of-a-second tick, and with PyMongo's
background loops stepping every 2 s rather than every 0.5 s.

uvicorn's server wakes ten times a second to look at its exit flag (and to refresh its `Date`
header once a second): on an idle laptop stack of seven services that alone was about 0.1 % of
a core per process, most of the stack's idle CPU. The sidecar's `QuietServer` (which the
launcher starts anyway, a declared dependency) looks once a second instead and at once when a
signal asks it to stop. Production images run uvicorn itself (the Dockerfile): a tick there
costs nothing worth saving.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pymongo.common
import uvicorn

from kugelpos.sidecar.serving import QuietServer

# PyMongo's async client sleeps in steps of its minimum heartbeat interval (0.5 s) in each of
# its background loops (monitor, round-trip monitor, cursor cleanup): six wake-ups a second
# per client, about 0.07 % of a core for a client that does nothing. In steps of 2 s here; a
# check PyMongo asks for after a failure (a restarted wire server) waits up to 2 s instead of
# 0.5 s, well inside its server selection timeout. Production images run PyMongo as it comes.
DRIVER_STEP_SECONDS = 2.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kugelpos.devstack.serve")
    parser.add_argument("app", help="module:attribute of the ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    pymongo.common.MIN_HEARTBEAT_INTERVAL = DRIVER_STEP_SECONDS
    QuietServer(uvicorn.Config(args.app, host=args.host, port=args.port)).run()


if __name__ == "__main__":
    main()
