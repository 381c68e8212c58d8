"""Schemathesis over the served OpenAPI of every registered service (issue 12, item 3).

Every operation of every `/openapi.json` gets a few positive (schema-valid) and negative
(schema-violating) examples, sent to the live session stack with the credential the operation
is meant for: the tenant admin's JWT for back-office operations, a till's API key or its
terminal JWT for till operations, the app token for the sidecar's subscriber routes. Path ids
are pinned to a tenant of this test's own (its store, till and cart), so the requests reach
the service's logic instead of stopping at "another tenant" (the access matrix covers that).

Checks on every response: no 5xx; every 4xx is the error envelope (subscriber routes answer
Dapr's status JSON instead); no response carries a secret, neither a known secret value (API
keys, the user password, the stack's JWT secret, app token and notify key) nor a key named like
one (`password`, `hashedPassword`, `pin`, `apiKey`...) holding anything but the v1 mask.
Terminal creation and API-key regeneration return the new `apiKey` on purpose (allow-listed).

Bounded: EXAMPLES per operation and mode, no deadline, no shrinking (a finding is reported with
its request instead), derandomized so that CI runs the same cases every time. Operations that
delete the tenant, the till or its key run last, so that they do not starve the others.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.apispec import secret_findings
from kugelpos.testkit.security import URL_NAMES, World
from kugelpos.testkit.testing import ENVELOPE_KEYS

# A deeper hunt on demand: KUGELPOS_FUZZ_EXAMPLES=50 KUGELPOS_FUZZ_RANDOM=1 pytest tests/security
EXAMPLES = int(os.environ.get("KUGELPOS_FUZZ_EXAMPLES", "3"))
DERANDOMIZE = not os.environ.get("KUGELPOS_FUZZ_RANDOM")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

# Operations whose answer holds an API key by contract (a new terminal, a new key).
API_KEY_OPERATIONS = frozenset(
    {
        ("terminal", "POST", "/api/v1/terminals"),
        ("terminal", "POST", "/api/v1/terminals/register"),
        ("terminal", "POST", "/api/v1/terminals/{terminal_id}/api-key"),
    }
)

# Till operations: everything of the cart but its tenant set-up and cache, the terminal
# service's lifecycle, and the direct posts of a till's own transactions and journal.
_TILL = re.compile(
    r"/api/v1/carts.*"
    r"|/api/v1/auth/token"
    r"|/api/v1/terminals/(open|close|cash-in-out)"
    r"|/api/v1/terminals/\{terminal_id\}/(sign-in|sign-out|open|close|cash-in|cash-out)"
    r"|/api/v1/tenants/\{tenant_id\}/stores/\{store_code\}/terminals/\{terminal_no\}/"
    r"(transactions/\{transaction_no\}/(void|return)|transactions|journals)"
)
# Run last: they remove what the other operations need.
_DESTRUCTIVE = re.compile(
    r"DELETE /api/v1/tenants/\{tenant_id\}"
    r"|DELETE /api/v1/terminals/\{terminal_id\}"
    r"|POST /api/v1/terminals/\{terminal_id\}/api-key"
    r"|DELETE /api/v1/tenants/\{tenant_id\}/stores/\{store_code\}"
)


@dataclass
class Finding:
    operation: str
    problem: str
    request: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}\n    {self.request}"


@dataclass
class FuzzTarget:
    stack: Stack
    shop: Shop
    jwt: str  # terminal JWT of the first till
    cart_id: str
    secrets: dict[str, str]


@pytest.fixture(scope="module")
async def target(stack: Stack, world: World) -> FuzzTarget:
    """A tenant of the fuzz run's own (it may delete it), with one till and a cart."""
    urls = {name: stack.url(name) for name in URL_NAMES}
    async with httpx.AsyncClient(timeout=60) as client:
        shop = await open_shop(client, urls, terminals=1)
        till = shop.tills[0]
        r = await client.post(
            f"{urls['terminal']}/api/v1/auth/token", headers=till.headers, params=till.params
        )
        assert r.status_code == 200, r.text
        jwt = r.json()["data"]["access_token"]
        r = await client.post(
            f"{urls['cart']}/api/v1/carts",
            params=till.params,
            headers=till.headers,
            json={"transactionType": 101, "userId": "u1", "userName": "Guest"},
        )
        assert r.status_code == 201, r.text
        cart_id = r.json()["data"]["cartId"]
    secrets = world.known_secrets() | {f"api key of {till.terminal_id}": till.api_key}
    return FuzzTarget(stack, shop, jwt, cart_id, secrets)


def _label(op: Any) -> str:
    return f"{op.method.upper()} {op.path}"


def _subscriber_routes(stack: Stack, service: str) -> set[str]:
    r = httpx.get(f"{stack.url(service)}/dapr/subscribe", timeout=30)
    if r.status_code != 200:
        return set()
    paths: set[str] = set()
    for entry in r.json():
        routes = entry.get("routes") or {}
        paths.update({entry.get("route"), routes.get("default")} - {None})
        paths.update(rule["path"] for rule in routes.get("rules") or [] if rule.get("path"))
    return paths


def _envelope_problem(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} without a JSON body: {response.text[:200]}"
    if not isinstance(body, dict) or not set(body) >= ENVELOPE_KEYS:
        return f"{response.status_code} without the error envelope: {response.text[:300]}"
    user_error = body.get("userError")
    if (
        body["success"] is not False
        or not re.fullmatch(r"\d{6}", str(body["code"]))
        or not isinstance(user_error, dict)
        or user_error.get("code") != body["code"]
        or not user_error.get("message")
        or body.get("user_error") != user_error
    ):
        return f"{response.status_code} with a malformed error envelope: {response.text[:300]}"
    return None


@dataclass
class Fuzzer:
    """Sends the cases of one run and keeps what they found."""

    target: FuzzTarget
    credentials: dict[str, tuple[dict[str, str], dict[str, str]]]
    session: requests.Session
    findings: list[Finding] = field(default_factory=list)
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    by_operation: dict[str, dict[int, int]] = field(default_factory=dict)

    def operation(
        self, service: str, op: Any, choices: list[str], subscriber: bool, pinned: dict[str, Any]
    ) -> None:
        for mode in MODES:
            self.mode(service, op, choices, subscriber, pinned, mode)

    def mode(
        self,
        service: str,
        op: Any,
        choices: list[str],
        subscriber: bool,
        pinned: dict[str, Any],
        mode: GenerationMode,
    ) -> None:
        strategy = op.as_strategy(generation_mode=mode, path_parameters=pinned)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=DERANDOMIZE,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy, credential=st.sampled_from(choices))
        def run(case: Any, credential: str) -> None:
            self.send(service, op, subscriber, case, credential, mode)

        try:
            run()
        except Unsatisfiable:
            # Nothing to violate (no parameters, no body): negative mode has no case.
            if mode is not GenerationMode.NEGATIVE:
                raise

    def send(
        self,
        service: str,
        op: Any,
        subscriber: bool,
        case: Any,
        credential: str,
        mode: GenerationMode,
    ) -> None:
        headers, query = self.credentials[credential]
        case.headers = {**(case.headers or {}), **headers}
        if query:
            case.query = {**(case.query or {}), **query}
        base_url = self.target.stack.url(service)
        response = case.call(base_url=base_url, session=self.session, timeout=30)
        self.examples += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        where = f"{service} {_label(op)}"
        seen = self.by_operation.setdefault(where, {})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        request = (
            f"[{credential}, {mode.value}] {response.request.method} {response.request.url} "
            f"body={str(response.request.body)[:300]}"
        )
        if response.status_code >= 500:
            problem = f"{response.status_code}: {response.text[:300]}"
            self.findings.append(Finding(where, problem, request))
            return
        if 400 <= response.status_code < 500 and not subscriber:
            problem = _envelope_problem(response)
            if problem:
                self.findings.append(Finding(where, problem, request))
        try:
            body = response.json()
        except ValueError:
            body = None
        known = self.target.secrets
        allowed: frozenset[str] = frozenset()
        if (service, op.method.upper(), op.path) in API_KEY_OPERATIONS:
            allowed = frozenset({"apikey"})
            known = {k: v for k, v in known.items() if not k.startswith("api key")}
        leaked = secret_findings(body, known, allowed_keys=allowed, raw=response.text)
        if leaked:
            self.findings.append(Finding(where, f"secret in answer: {leaked}", request))


async def test_fuzz_all_services(
    target: FuzzTarget,
    world: World,
    security_summary: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    shop = target.shop
    till = shop.tills[0]
    pinned = {
        "tenant_id": shop.tenant_id,
        "store_code": shop.store_code,
        "terminal_id": till.terminal_id,
        "terminal_no": till.terminal_no,
        "cart_id": target.cart_id,
    }
    credentials = {
        "admin JWT": (dict(shop.admin), {}),
        "terminal API key": (dict(till.headers), dict(till.params)),
        "terminal JWT": ({"Authorization": f"Bearer {target.jwt}"}, {}),
        "app token": ({"dapr-api-token": target.stack.app_token}, {}),
        # Delivery-status acknowledgements come from the subscribing services.
        "service token": (
            {
                "Authorization": "Bearer "
                + TokenCodec(target.stack.secret_key).issue_service_token(
                    service="journal", tenant_id=shop.tenant_id
                )
            },
            {},
        ),
    }
    started = time.monotonic()
    every: list[tuple[str, Any, set[str]]] = []
    for service, document in world.specs.items():
        subscribers = _subscriber_routes(target.stack, service)
        schema = schemathesis.openapi.from_dict(document)
        every += [(service, result.ok(), subscribers) for result in schema.get_all_operations()]
    # Across services: the cart needs the till that the terminal service's DELETE removes.
    every.sort(key=lambda entry: bool(_DESTRUCTIVE.fullmatch(_label(entry[1]))))
    with requests.Session() as session:
        fuzzer = Fuzzer(target, credentials, session)
        for service, op, subscribers in every:
            subscriber = op.path in subscribers
            if subscriber:
                choices = ["app token"]
            elif op.path.endswith("/delivery-status"):
                choices = ["service token"]
            elif _TILL.fullmatch(op.path):
                choices = ["terminal API key", "terminal JWT"]
            else:
                choices = ["admin JWT"]
            params = {k: v for k, v in pinned.items() if "{" + k + "}" in op.path}
            fuzzer.operation(service, op, choices, subscriber, params)
    operations = len(every)
    elapsed = round(time.monotonic() - started, 1)
    out = tmp_path_factory.mktemp("security") / "fuzz_statuses.txt"
    out.write_text(
        "".join(f"{op}: {dict(sorted(seen.items()))}\n" for op, seen in fuzzer.by_operation.items())
    )
    statuses = dict(sorted(fuzzer.statuses.items()))
    security_summary["fuzz"] = {
        "operations": operations,
        "examples": fuzzer.examples,
        "seconds": elapsed,
        "findings": len(fuzzer.findings),
        "file": str(out),
        "statuses": json.dumps(statuses),
    }
    print(f"\nfuzz: {operations} operations, {fuzzer.examples} examples in {elapsed} s, {statuses}")
    findings = fuzzer.findings
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(map(str, findings[:60]))
