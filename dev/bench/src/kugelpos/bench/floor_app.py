"""The floor: a bare FastAPI endpoint that reads a JSON body (validated, as the cart's are) and
makes one Redis round trip, served by one uvicorn process like each service.

Why: on a shared 2-core machine absolute latencies move with the load next door. Read as a
ratio to this floor, measured in the same run, at the same concurrency, by the same client, a
service's figure says how much its own work adds to the least any endpoint here costs.

`python -m uvicorn kugelpos.bench.floor_app:app` with REDIS_URL set; `serve_floor`
starts it on a free port for the length of a `with` block.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from kugelpos.devstack import processes
from kugelpos.devstack.ports import LOOPBACK, free_ports
from kugelpos.devstack.stack import Stack, StackError

PATH = "/floor"
KEY = "bench:floor"
STARTUP_SECONDS = 30.0


class Line(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    item_code: str
    quantity: int


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = aioredis.from_url(os.environ["REDIS_URL"])
    yield
    await app.state.redis.aclose()


app = FastAPI(lifespan=_lifespan)


@app.post(PATH)
async def floor(lines: list[Line], request: Request) -> dict[str, int]:
    hits = await request.app.state.redis.incr(KEY)
    return {"hits": hits, "lines": len(lines)}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@asynccontextmanager
async def serve_floor(stack: Stack, client: httpx.AsyncClient) -> AsyncIterator[str]:
    """The floor app in its own uvicorn process against the stack's Redis; yields its URL."""
    port = free_ports(1)[0]
    argv = [sys.executable, "-m", "uvicorn", f"{__name__}:app", "--host", LOOPBACK]
    argv += ["--port", str(port), "--log-level", "warning"]
    env = dict(os.environ, REDIS_URL=stack.redis_url, PYTHONUNBUFFERED="1")
    process = processes.spawn(
        "bench-floor",
        argv,
        env=env,
        log_path=stack.base_dir / "logs" / "bench-floor.log",
        # Not in the stack's pid folder: the floor is the bench's, not a stack component.
        pid_path=stack.base_dir / "bench" / "floor.pid",
        die_with_parent=True,
    )
    base = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if not process.running():
                raise StackError(
                    f"the floor app exited with code {process.exit_code()}:\n"
                    f"{processes.tail(process.log_path)}"
                )
            try:
                if (await client.get(f"{base}/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise StackError(f"the floor app not ready after {STARTUP_SECONDS:.0f}s")
            await asyncio.sleep(0.1)
        yield f"{base}{PATH}"
    finally:
        processes.terminate(process)
