"""No credential in any log line: a store day that uses every kind of credential the stack
knows, then a search of every log the launcher keeps (each service, each MongoDB wire server,
Redis, the sidecar, and the launcher's own `==== starting` lines with each command line) for
every one of them.

The day: a tenant registered and logged in with a password (and a wrong one tried), a clerk
created and logged in, a staff member signed in with a PIN (a wrong PIN tried first), a sale
paid and billed with the till's API key, the key rotated and the new one used, the till's JWT
from sign-in used on the cart, a service token used on master-data, the stock alert WebSocket
opened with the v1 `?token=<JWT>` (and refused a forged one), credentials sent as query
parameters where no endpoint wants them (`?access_token=`, `?api_key=`), and inputs too long to
be accepted (a password, a PIN) that the validation error must not echo.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta
from pathlib import Path

import httpx
import websockets

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.observability.redaction import is_secret_name
from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok

NAMES = ("account", "terminal", "master-data", "cart", "report", "journal", "stock")


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _forms(name: str, value: str) -> dict[str, str]:
    """A secret and the parts of it that would betray it on their own (a JWT's signature)."""
    forms = {name: value}
    if value.count(".") == 2 and value.startswith("eyJ"):
        forms[f"{name} (signature)"] = value.rsplit(".", 1)[1]
    return forms


def _hits(logs: list[Path], used: dict[str, str]) -> list[str]:
    """`file:line: kind` for every line that holds a secret (never the secret itself)."""
    found = []
    for path in logs:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for kind, value in used.items():
                if value in line:
                    found.append(f"{path.name}:{number}: {kind}")
    return found


async def test_no_credential_of_a_store_day_reaches_any_log(stack: Stack) -> None:
    urls = {name: stack.url(name) for name in NAMES}
    used: dict[str, str] = {}

    def use(name: str, value: str) -> str:
        used.update(_forms(name, value))
        return value

    async with httpx.AsyncClient(timeout=30) as client:
        # A tenant's admin: registered and logged in with a password; a wrong one tried.
        tenant_id = "T" + secrets.token_hex(4).upper()
        password = use("admin password", "pw-" + secrets.token_urlsafe(18))
        account = f"{urls['account']}/api/v1/accounts"
        r = await client.post(
            f"{account}/register",
            json={"username": "admin", "password": password, "tenantId": tenant_id},
        )
        assert_ok(r, 201)
        wrong = use("wrong password", "wrong-" + secrets.token_urlsafe(18))
        form = {"username": "admin", "client_id": tenant_id}
        r = await client.post(f"{account}/token", data=form | {"password": wrong})
        assert_error(r, 401, "200001")
        r = await client.post(f"{account}/token", data=form | {"password": password})
        assert r.status_code == 200, r.text
        admin_token = use("admin token", r.json()["access_token"])
        admin = _bearer(admin_token)

        # A clerk, created by the admin, logs in; its token also rides in a query parameter.
        clerk_password = use("clerk password", "clerk-" + secrets.token_urlsafe(18))
        r = await client.post(
            f"{account}/users",
            headers=admin,
            json={"username": "clerk", "password": clerk_password, "roles": ["user"]},
        )
        assert_ok(r, 201)
        r = await client.post(
            f"{account}/token",
            data={"username": "clerk", "password": clerk_password, "client_id": tenant_id},
        )
        assert r.status_code == 200, r.text
        clerk_token = use("clerk token", r.json()["access_token"])
        r = await client.get(
            f"{account}/token/valid",
            params={"access_token": clerk_token},
            headers=_bearer(clerk_token),
        )
        assert assert_ok(r)["data"]["sub"] == "clerk"

        # Inputs too long to be accepted: the 422 must not carry them into a log.
        long_password = use("too long password", "long-" + secrets.token_urlsafe(300))
        r = await client.post(f"{account}/token", data=form | {"password": long_password})
        assert_error(r, 422)
        assert long_password not in r.text

        # The store, its till (API key) and a staff member with a PIN of their own.
        shop = await open_shop(client, urls, admin, tenant_id)
        till = shop.tills[0]
        use("till API key", till.api_key)
        pin = use("staff PIN", _digits(12))
        md = f"{urls['master-data']}/api/v1/tenants/{tenant_id}"
        r = await client.post(
            f"{md}/staff",
            headers=admin,
            json={"id": "S777", "name": "Hanako", "pin": pin, "roles": []},
        )
        assert_ok(r, 201)
        long_pin = use("too long PIN", _digits(80))
        r = await client.post(
            f"{md}/staff",
            headers=admin,
            json={"id": "S778", "name": "Jiro", "pin": long_pin, "roles": []},
        )
        assert_error(r, 422)
        assert long_pin not in r.text
        terminal = f"{urls['terminal']}/api/v1/terminals/{till.terminal_id}"
        assert_ok(await client.post(f"{terminal}/sign-out", headers=till.headers))
        wrong_pin = use("wrong PIN", _digits(12))
        r = await client.post(
            f"{terminal}/sign-in", headers=till.headers, json={"staffId": "S777", "pin": wrong_pin}
        )
        assert_error(r, 401, "406006")
        r = await client.post(
            f"{terminal}/sign-in", headers=till.headers, json={"staffId": "S777", "pin": pin}
        )
        assert_ok(r)
        terminal_token = use("terminal token", r.headers["X-New-Token"])

        # A sale with the API key; the till's JWT reads the cart; the key also rides in a query.
        register = Register(client, shop, till)
        sale = await register.sale(("4901", 1), ("4902", 2))
        r = await client.get(
            f"{urls['cart']}/api/v1/carts/{sale['cartId']}",
            params={"terminal_id": till.terminal_id, "api_key": till.api_key},
            headers=_bearer(terminal_token),
        )
        assert assert_ok(r)["data"]["cartStatus"] == "Completed"

        # The key is rotated; the new one sells.
        r = await client.post(f"{terminal}/api-key", headers=admin)
        new_key = use("rotated API key", assert_ok(r)["data"]["apiKey"])
        r = await client.get(terminal, headers={"X-API-KEY": new_key})
        assert assert_ok(r)["data"]["terminalId"] == till.terminal_id

        # A service token, as the cart uses on master-data.
        codec = TokenCodec(stack.secret_key)
        service_token = use(
            "service token", codec.issue_service_token(service="cart", tenant_id=tenant_id)
        )
        r = await client.get(f"{md}/settings", headers=_bearer(service_token))
        assert_ok(r)

        # The stock alerts over a WebSocket with the v1 `?token=`; a forged token is refused.
        ws = urls["stock"].replace("http", "ws", 1) + f"/api/v1/ws/{tenant_id}/{shop.store_code}"
        async with websockets.connect(f"{ws}?token={admin_token}") as socket:
            hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert hello["type"] == "connection" and hello["tenant_id"] == tenant_id
        forged = use(
            "forged token",
            TokenCodec(secrets.token_urlsafe(32)).issue_user_token(
                username="admin",
                tenant_id=tenant_id,
                is_superuser=True,
                roles=["admin"],
                lifetime=timedelta(minutes=5),
            ),
        )
        async with websockets.connect(f"{ws}?token={forged}") as socket:
            await asyncio.wait_for(socket.wait_closed(), 10)
            assert socket.close_code == 1008

    # The stack's own secrets (signing key, notify key, the sidecar's app token, ...).
    for name, value in vars(stack).items():
        if isinstance(value, str) and is_secret_name(name):
            used.update(_forms(f"stack {name}", value))
    assert len(used) >= 20, sorted(used)

    # Every log the launcher keeps; the processes write unbuffered, give them a moment.
    await asyncio.sleep(1.0)
    logs = sorted((stack.base_dir / "logs").glob("*.log"))
    assert {f"{name}.log" for name in (*NAMES, "sidecar", "redis")} <= {p.name for p in logs}
    assert _hits(logs, used) == []

    # The lines that would have held them are there, masked.
    stock_log = stack.log_path("stock").read_text()
    ws_lines = [
        json.loads(line)
        for line in stock_log.splitlines()
        if line.startswith("{") and f"/api/v1/ws/{tenant_id}/" in line
    ]
    assert len(ws_lines) == 2, ws_lines
    assert all((line["status"], line["query"]) == (101, "token=***") for line in ws_lines)
    assert sorted(line["close_code"] for line in ws_lines) == [1000, 1008]
    assert "token=***" in stock_log and "[accepted]" in stock_log  # uvicorn's own line, too
    account_log = stack.log_path("account").read_text()
    assert "access_token=***" in account_log
    assert "api_key=***" in stack.log_path("cart").read_text()
