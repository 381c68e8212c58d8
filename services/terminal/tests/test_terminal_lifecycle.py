"""Staff sign-in/out (master-data staff and PINs), open, close, cash in/out, the product's
key-owner endpoints; lifecycle misuse is a 4xx with its code and writes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jwt

from kugelpos.testkit.testing import assert_error, assert_ok, new_tenant_id

PIN = "4321"  # the PIN `world.add_staff` gives


def _claims(env, response) -> dict:
    token = response.headers["X-New-Token"]
    return jwt.decode(token, env.stack.secret_key, algorithms=["HS256"])


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y%m%d")


async def test_sign_in_checks_staff_and_pin(world) -> None:
    env = world.env
    await world.add_staff("S001")
    before = await env.snapshot(world.tenant_id)
    assert_error(await world.sign_in("NOBODY"), 401, "406004")
    assert_error(await world.sign_in("S001", pin="0000"), 401, "406006")
    r = await env.http.post(f"{world.path}/sign-in", headers=world.key, json={"staffId": "S001"})
    assert_error(r, 401, "406006")
    assert_error(await env.http.post(f"{world.path}/sign-in", headers=world.key, json={}), 422)
    assert await env.snapshot(world.tenant_id) == before
    r = await world.sign_in("S001")
    data = assert_ok(r)["data"]
    assert data["staff"] == {"staffId": "S001", "staffName": "Staff S001", "staffPin": None}
    assert PIN not in r.text
    claims = _claims(env, r)
    assert (claims["staff_id"], claims["staff_name"]) == ("S001", "Staff S001")
    assert_error(await world.sign_in("S001"), 400, "406014")
    stored = await env.db(world.tenant_id)["info_terminal"].find_one(
        {"terminal_id": world.terminal_id}
    )
    assert "pin" not in str(stored["staff"]).lower()


async def test_wrong_pins_are_throttled(world) -> None:
    await world.add_staff("S009")
    statuses = [(await world.sign_in("S009", pin="0000")).status_code for _ in range(6)]
    # Here and in master-data (which throttles PIN checks too): refused after a few tries.
    assert statuses[0] == 401
    assert statuses[-1] == 429 and set(statuses) == {401, 429}
    # Even the right PIN waits until the window has passed.
    assert_error(await world.sign_in("S009"), 429)


async def test_sign_out_is_idempotent_and_reissues_the_token(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    for _ in range(2):
        r = await env.http.post(f"{world.path}/sign-out", headers=world.key)
        assert assert_ok(r)["data"]["staff"] is None
        assert "staff_id" not in _claims(env, r)


async def test_open_close_counters_and_amounts(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    r = await world.open("1000.50")
    data = assert_ok(r)["data"]
    assert data["businessDate"] == _today()
    assert (data["openCounter"], data["businessCounter"]) == (1, 1)
    assert data["initialAmount"] == 1000.5
    assert data["terminalInfo"]["status"] == "Opened" and data["terminalInfo"]["apiKey"] is None
    assert data["receiptText"].startswith("<PrintData>") and data["journalText"]
    claims = _claims(env, r)
    assert claims["status"] == "Opened" and claims["business_date"] == _today()
    assert_error(await world.open(), 400, "406009")
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 200})
    assert assert_ok(r)["data"]["amount"] == 200
    r = await env.http.post(
        f"{world.path}/cash-out", headers=world.key, json={"amount": "50.25", "description": "x"}
    )
    data = assert_ok(r)["data"]
    assert data["amount"] == -50.25 and data["description"] == "x"
    r = await env.http.post(f"{world.path}/close", headers=world.key, json={"physicalAmount": 1150})
    data = assert_ok(r)["data"]
    # float 1000.50 + in 200 - out 50.25 + no cash sales = 1150.25.
    assert data["expectedAmount"] == 1150.25
    assert data["differenceAmount"] == -0.25
    assert (data["cashInAmount"], data["cashOutAmount"]) == (200, 50.25)
    assert data["cashSalesAmount"] == 0 and data["physicalAmount"] == 1150
    assert data["terminalInfo"]["status"] == "Closed"
    assert _claims(env, r)["status"] == "Closed"
    assert_error(await env.http.post(f"{world.path}/close", headers=world.key), 400, "406010")
    # Opening again the same day counts up the open counter; business counter always grows.
    data = assert_ok(await world.open())["data"]
    assert (data["openCounter"], data["businessCounter"]) == (2, 2)
    assert data["initialAmount"] is None
    stored = await env.db(world.tenant_id)["log_open_close"].find_one({"operation": "close"})
    assert str(stored["expected_amount"]) == "1150.25"  # Decimal128, exact


async def test_lifecycle_misuse_writes_nothing(world) -> None:
    env = world.env
    before = await env.snapshot(world.tenant_id)
    # Close an idle terminal; cash on a closed one; no staff signed in.
    assert_error(await env.http.post(f"{world.path}/close", headers=world.key), 400, "406003")
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 5})
    assert_error(r, 400, "406013")
    await world.add_staff()
    assert_ok(await world.sign_in())
    before = await env.snapshot(world.tenant_id)
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 5})
    assert_error(r, 400, "406003")
    assert_ok(await world.open())
    before = await env.snapshot(world.tenant_id)
    for amount in (0, -5, "abc", 1e20):
        r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": amount})
        assert_error(r, 422)
    # Finer than the terminal's 4 decimals: well-formed, but not an amount (400, issue 8).
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": "0.00001"})
    assert_error(r, 400, "300001")
    r = await world.http.post(f"{world.path}/open", headers=world.key, json={"initialAmount": -1})
    assert_error(r, 422)
    assert await env.snapshot(world.tenant_id) == before


async def test_lifecycle_refusals(world) -> None:
    env = world.env
    other_id, other_key = await world.add_terminal(2)
    token = assert_ok(await env.http.post("/api/v1/auth/token", headers={"X-API-KEY": other_key}))[
        "data"
    ]["access_token"]
    before = await env.snapshot(world.tenant_id)
    for op, body in (
        ("open", None),
        ("close", None),
        ("sign-in", {"staffId": "S001"}),
        ("sign-out", None),
        ("cash-in", {"amount": 1}),
        ("cash-out", {"amount": 1}),
    ):
        url = f"{world.path}/{op}"
        assert_error(await env.http.post(url, json=body), 401)
        assert_error(await env.http.post(url, headers={"X-API-KEY": "bad"}, json=body), 401)
        bearer = {"Authorization": f"Bearer {token}"}
        assert_error(await env.http.post(url, headers=bearer, json=body), 403)
        other_tenant = env.user(new_tenant_id("TT"))
        assert_error(await env.http.post(url, headers=other_tenant, json=body), 403)
        clerk = env.user(world.tenant_id, roles=("user",))
        assert_error(await env.http.post(url, headers=clerk, json=body), 403)
        unknown = f"/api/v1/terminals/{world.tenant_id}-{world.store_code}-99/{op}"
        r = await env.http.post(unknown, headers=world.admin, json=body)
        assert_error(r, 404, "406001")
    assert await env.snapshot(world.tenant_id) == before
    assert other_id


async def test_a_manager_may_operate_a_terminal(world) -> None:
    manager = world.env.user(world.tenant_id, roles=("manager",))
    r = await world.http.post(f"{world.path}/open", headers=manager, json={"initialAmount": 10})
    assert_ok(r)
    r = await world.http.post(f"{world.path}/close", headers=manager)
    assert_ok(r)


async def test_key_owner_endpoints(world) -> None:
    env = world.env
    await world.add_staff()
    assert_ok(await world.sign_in())
    assert_error(await env.http.post("/api/v1/terminals/open"), 401)
    assert_error(await env.http.post("/api/v1/terminals/open", headers={"X-API-KEY": "x"}), 401)
    other_id, other_key = await world.add_terminal(2)
    before = await env.snapshot(world.tenant_id)
    r = await env.http.post(
        "/api/v1/terminals/open", headers=world.key, params={"terminal_id": other_id}
    )
    assert_error(r, 403)
    assert_error(await env.http.post("/api/v1/terminals/open", headers=world.admin), 403)
    assert await env.snapshot(world.tenant_id) == before
    r = await env.http.post(
        "/api/v1/terminals/open", headers=world.key, json={"initialAmount": 500}
    )
    data = assert_ok(r)["data"]
    assert data["terminalId"] == world.terminal_id and r.headers["X-New-Token"]
    # Signed amount, or a positive amount with a direction.
    url = "/api/v1/terminals/cash-in-out"
    assert (
        assert_ok(await env.http.post(url, headers=world.key, json={"amount": 30}))["data"][
            "amount"
        ]
        == 30
    )
    assert (
        assert_ok(await env.http.post(url, headers=world.key, json={"amount": -20}))["data"][
            "amount"
        ]
        == -20
    )
    r = await env.http.post(url, headers=world.key, json={"amount": 5, "direction": "out"})
    assert assert_ok(r)["data"]["amount"] == -5
    assert_error(await env.http.post(url, headers=world.key, json={"amount": 0}), 422)
    r = await env.http.post(url, headers=world.key, json={"amount": -5, "direction": "in"})
    assert_error(r, 422)
    # The terminal JWT works too.
    token = assert_ok(await env.http.post("/api/v1/auth/token", headers=world.key))["data"][
        "access_token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    r = await env.http.post(
        "/api/v1/terminals/close",
        headers=bearer,
        params={"terminal_id": world.terminal_id},
        json={"physicalAmount": 505},
    )
    data = assert_ok(r)["data"]
    assert data["expectedAmount"] == 505 and data["differenceAmount"] == 0
    assert other_key


async def test_a_retried_cash_in_with_the_same_idempotency_key_applies_once(world) -> None:
    env = world.env
    await world.ready_for_cash()
    logs = env.db(world.tenant_id)["log_cash_in_out"]
    before = await logs.count_documents({})
    headers = world.key | {"Idempotency-Key": "till-1-cash-in-0001"}
    url = f"{world.path}/cash-in"
    first = await env.http.post(url, headers=headers, json={"amount": 300})
    again = await env.http.post(url, headers=headers, json={"amount": 300})
    assert assert_ok(first)["data"]["amount"] == 300
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await logs.count_documents({}) == before + 1
    # The same key for a different request is refused, and applies nothing.
    other = await env.http.post(url, headers=headers, json={"amount": 999})
    assert_error(other, 422)
    assert await logs.count_documents({}) == before + 1


async def test_receipts_print_the_v1_japanese_layout(world) -> None:
    env = world.env
    await world.ready_for_cash()
    r = await env.http.post(f"{world.path}/cash-in", headers=world.key, json={"amount": 1234})
    data = assert_ok(r)["data"]
    journal = data["journalText"].splitlines()
    assert data["journalText"].endswith("\n")
    assert any(line.startswith("レジNo. ") and "責# 00S001" in line for line in journal)
    assert any("【 入 金 】" in line for line in journal)
    assert any(line.startswith("金額") and line.endswith("1,234円") for line in journal)
    assert journal[-1].startswith("レシートNo.")
    # 32 display columns: East-Asian wide characters count 2.
    from kugelpos.common.receipts import width_of

    assert all(width_of(line) == 32 for line in journal)
    assert data["receiptText"].startswith("<PrintData>")
    assert '<Line type="Text" align="Split">' in data["receiptText"]
