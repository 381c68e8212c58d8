"""ServiceCaller over `httpx.MockTransport`: the tenant's service token (minted once, reused),
the envelope's data, None on 404, errors for anything else, the read in POST form."""

from __future__ import annotations

import json

import httpx
import pytest

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.errors import ExternalServiceError

SECRET = "s" * 40


def _caller(handler) -> ServiceCaller:
    http = HttpClientHelper(transport=httpx.MockTransport(handler), backoff=0.001)
    return ServiceCaller(http, TokenCodec(SECRET), service="stock")


async def test_calls_carry_the_tenants_service_token_and_answer_the_data() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/missing"):
            return httpx.Response(404, json={"success": False})
        body = json.loads(request.content) if request.content else None
        return httpx.Response(200, json={"success": True, "data": {"echo": body}})

    caller = _caller(handler)
    assert await caller.get_data("http://md/api/v1/a", "T1") == {"echo": None}
    assert await caller.post_data("http://md/api/v1/b", "T1", {"itemCodes": ["X"]}) == {
        "echo": {"itemCodes": ["X"]}
    }
    assert await caller.get_data("http://md/api/v1/missing", "T2") is None
    assert caller.calls == 3
    tokens = [r.headers["Authorization"].removeprefix("Bearer ") for r in seen]
    assert tokens[0] == tokens[1] != tokens[2]  # minted once per tenant, then reused
    codec = TokenCodec(SECRET)
    claims = [codec.decode(t) for t in (tokens[0], tokens[2])]
    assert [(c["tenant_id"], c["service"], c["is_service_account"]) for c in claims] == [
        ("T1", "stock", True),
        ("T2", "stock", True),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, json={"success": False}),
        httpx.Response(502, json={"success": False}),
        httpx.Response(200, content=b"not json"),
    ],
)
async def test_anything_but_an_envelope_or_404_is_an_error(answer: httpx.Response) -> None:
    caller = _caller(lambda request: answer)
    with pytest.raises(ExternalServiceError):
        await caller.post_data("http://md/api/v1/lookup", "T1", {})
