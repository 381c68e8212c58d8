"""Master-data change notices: their shape, and a publish that never holds up the write."""

from __future__ import annotations

import json

import httpx

from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.events.changes import (
    BROADCAST_PUBSUB,
    MASTERDATA_CHANGED,
    ChangeAnnouncer,
    ChangeKind,
    MasterChange,
)


def test_a_notice_round_trips() -> None:
    change = MasterChange("T1", ChangeKind.STORE_ITEM, "4901", "S1")
    event = change.to_event()
    assert event == {"tenant_id": "T1", "kind": "store_item", "code": "4901", "store_code": "S1"}
    assert MasterChange.from_event(json.loads(json.dumps(event))) == change


def test_malformed_notices_are_refused() -> None:
    for data in (None, "x", {}, {"tenant_id": 1, "kind": "item"}, {"tenant_id": "T", "kind": "?"}):
        assert MasterChange.from_event(data) is None
    odd = MasterChange.from_event({"tenant_id": "T", "kind": "item", "code": 5})
    assert odd is not None and odd.code is None


def _dapr(handler) -> DaprClientHelper:
    http = HttpClientHelper(
        transport=httpx.MockTransport(handler),
        max_attempts=1,
        breakers=BreakerRegistry(failure_threshold=100),
    )
    return DaprClientHelper(http, "http://127.0.0.1:3500", "master-data")


async def test_notices_go_to_the_broadcast_component() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    announcer = ChangeAnnouncer(_dapr(handler))
    announcer.announce(MasterChange("T1", ChangeKind.ITEM, "4901"))
    await announcer.drain()
    (request,) = seen
    assert request.url.path == f"/v1.0/publish/{BROADCAST_PUBSUB}/{MASTERDATA_CHANGED}"
    assert json.loads(request.content)["code"] == "4901"


async def test_a_failed_notice_is_logged_not_raised() -> None:
    announcer = ChangeAnnouncer(_dapr(lambda request: httpx.Response(500)))
    announcer.announce(MasterChange("T1", ChangeKind.TENANT))
    await announcer.drain()  # nothing raised: the write that caused it has already answered
