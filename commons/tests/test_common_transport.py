"""The aiohttp transport under httpx, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.transport import AiohttpTransport
from kugelpos.common.errors import ServiceUnavailableError


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "body": body.decode(),
            "x_request_id": request.headers.get("X-Request-ID"),
            "content_type": request.headers.get("Content-Type"),
            "client_port": request.transport.get_extra_info("peername")[1],  # type: ignore[union-attr]
        },
        headers={"ETag": '"7"'},
        status=int(request.query.get("status", "200")),
    )


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/slow", _slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    c = httpx.AsyncClient(transport=AiohttpTransport(), timeout=httpx.Timeout(5, read=0.5))
    yield c
    await c.aclose()


async def test_requests_and_responses_pass_through(server: str, client: httpx.AsyncClient):
    r = await client.post(
        f"{server}/echo", params={"a": "1"}, json={"k": "v"}, headers={"X-Request-ID": "r-1"}
    )
    assert r.status_code == 200
    assert r.headers["etag"] == '"7"'
    data = r.json()
    assert data["method"] == "POST" and data["path"] == "/echo" and data["query"] == {"a": "1"}
    assert data["body"] == httpx.Request("POST", server, json={"k": "v"}).content.decode()
    assert data["x_request_id"] == "r-1" and data["content_type"] == "application/json"


async def test_status_codes_are_kept(server: str, client: httpx.AsyncClient):
    r = await client.delete(f"{server}/echo", params={"status": "409"})
    assert r.status_code == 409 and r.json()["method"] == "DELETE"


async def test_connection_refused_is_a_connect_error(client: httpx.AsyncClient):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_a_slow_answer_is_a_read_timeout(server: str, client: httpx.AsyncClient):
    with pytest.raises(httpx.ReadTimeout):
        await client.get(f"{server}/slow")


async def test_the_helper_retries_refused_connections_then_gives_up():
    helper = HttpClientHelper(max_attempts=2, backoff=0.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(ServiceUnavailableError):
            await helper.get(f"http://127.0.0.1:{port}/")
    await helper.aclose()


async def test_connections_are_reused(server: str, client: httpx.AsyncClient):
    ports = {(await client.get(f"{server}/echo")).json()["client_port"] for _ in range(5)}
    assert len(ports) == 1  # one kept-alive connection served all five
