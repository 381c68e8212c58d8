"""The alert WebSocket's credential: the v1 `?token=` still works and shows in no log line; the
`Authorization` header works too (a URL is what proxies log); a header beats the query."""

from __future__ import annotations

import asyncio
import json

import websockets

from kugelpos.devstack.stack import Stack

from .conftest import Tenant, new_store


def _url(stack: Stack, tenant: Tenant, store: str) -> str:
    return stack.url("stock").replace("http", "ws", 1) + f"/api/v1/ws/{tenant.tenant_id}/{store}"


async def _hello(socket: websockets.ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), 10))


async def test_token_in_the_header_or_the_query(stack: Stack, tenant: Tenant) -> None:
    store = new_store()
    url = _url(stack, tenant, store)
    token = tenant.token
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers) as socket:
        hello = await _hello(socket)
        assert hello["type"] == "connection" and hello["store_code"] == store
    async with websockets.connect(f"{url}?token={token}") as socket:
        assert (await _hello(socket))["type"] == "connection"
    # The header is the credential when both come: a bad header is not rescued by the query.
    bad = {"Authorization": "Bearer not-a-jwt"}
    async with websockets.connect(f"{url}?token={token}", additional_headers=bad) as socket:
        await asyncio.wait_for(socket.wait_closed(), 10)
        assert socket.close_code == 1008 and socket.close_reason == "Authentication failed"

    await asyncio.sleep(0.5)  # the service writes its lines unbuffered; let them land
    log = stack.log_path("stock").read_text()
    assert token not in log and token.rsplit(".", 1)[1] not in log
    lines = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and f"/api/v1/ws/{tenant.tenant_id}/{store}" in line
    ]
    # One line per connection, written as each ends (not necessarily in the order opened).
    seen = sorted((line["query"], line["status"], line["close_code"]) for line in lines)
    assert seen == [("", 101, 1000), ("token=***", 101, 1000), ("token=***", 101, 1008)]
