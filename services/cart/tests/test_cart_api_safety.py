"""Safety at the till, through HTTP: idempotent retries, concurrent requests on one cart,
numbering under concurrent bills, ownership (other terminal, other tenant), void and return
exactly once with refunds that follow the payment master."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.pos import Register, Shop, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_error, assert_ok


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(timeout=30, limits=limits) as c:
        yield c


async def new_shop(stack: Stack, client: httpx.AsyncClient, terminals: int = 1) -> Shop:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    return await open_shop(client, urls, terminals=terminals)


@pytest.fixture(scope="module")
async def shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    return await new_shop(stack, client, terminals=2)


@pytest.fixture(scope="module")
async def other_shop(stack: Stack, client: httpx.AsyncClient) -> Shop:
    return await new_shop(stack, client)


@pytest.fixture
def till(client, shop) -> Register:
    return Register(client, shop, shop.tills[0])


@pytest.fixture
def till2(client, shop) -> Register:
    return Register(client, shop, shop.tills[1])


async def transactions(client: httpx.AsyncClient, till: Register, **params) -> list[dict]:
    r = await client.get(
        till.transactions_url(),
        params=till.till.params | {"limit": 0, "include_cancelled": "true"} | params,
        headers=till.till.headers,
    )
    return assert_ok(r)["data"]


# ---- idempotency ---------------------------------------------------------------------------


async def test_retried_add_item_is_applied_once(till):
    cart_id = await till.create()
    first = await till.add(cart_id, ("4901", 1), key="scan-1")
    again = await till.add(cart_id, ("4901", 1), key="scan-1")
    assert assert_ok(first)["data"] == assert_ok(again)["data"]
    assert again.headers.get("idempotent-replayed") == "true"
    cart = assert_ok(await till.get(cart_id))["data"]
    assert len(cart["lineItems"]) == 1
    # A new key is a new scan; the same key with another body is refused.
    assert_ok(await till.add(cart_id, ("4901", 1), key="scan-2"))
    assert_error(await till.add(cart_id, ("4905", 1), key="scan-2"), 422, "300001")
    assert len(assert_ok(await till.get(cart_id))["data"]["lineItems"]) == 2


async def test_retried_create_and_bill_record_one_sale(client, till):
    cart_id = await till.create(key="new-cart-1")
    assert await till.create(key="new-cart-1") == cart_id
    assert_ok(await till.add(cart_id, ("4905", 1)))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", 1000), key="pay-1"))
    cart = assert_ok(await till.pay(cart_id, ("01", 1000), key="pay-1"))["data"]
    assert len(cart["payments"]) == 1
    first = assert_ok(await till.bill(cart_id, key="bill-1"))["data"]
    again = assert_ok(await till.bill(cart_id, key="bill-1"))["data"]
    assert first["transactionNo"] == again["transactionNo"]
    numbers = [t["transactionNo"] for t in await transactions(client, till)]
    assert numbers.count(first["transactionNo"]) == 1


async def test_concurrent_duplicates_apply_once(till):
    cart_id = await till.create()
    results = await asyncio.gather(*(till.add(cart_id, ("4905", 1), key="burst") for _ in range(4)))
    assert {r.status_code for r in results} <= {200, 409}
    assert any(r.status_code == 200 for r in results)
    for r in results:
        if r.status_code == 409:
            assert_error(r, 409, "500009")
    assert len(assert_ok(await till.get(cart_id))["data"]["lineItems"]) == 1


# ---- concurrency on one cart and numbering -------------------------------------------------


async def test_concurrent_changes_on_one_cart_cannot_both_apply(till):
    cart_id = await till.create()
    results = await asyncio.gather(*(till.add(cart_id, ("4905", 1)) for _ in range(8)))
    ok = [r for r in results if r.status_code == 200]
    conflicts = [r for r in results if r.status_code == 409]
    assert len(ok) + len(conflicts) == 8 and ok and conflicts
    for r in conflicts:
        assert_error(r, 409, "500009")
    cart = assert_ok(await till.get(cart_id))["data"]
    assert len(cart["lineItems"]) == len(ok) == cart["totalQuantity"]


async def test_concurrent_bills_of_one_cart_record_one_transaction(client, till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    assert_ok(await till.subtotal(cart_id))
    assert_ok(await till.pay(cart_id, ("01", 1100)))
    results = await asyncio.gather(*(till.bill(cart_id) for _ in range(4)))
    assert {r.status_code for r in results} <= {200, 400, 409}
    billed = [assert_ok(r)["data"] for r in results if r.status_code == 200]
    assert len(billed) >= 1
    assert len({b["transactionNo"] for b in billed}) == 1
    number = billed[0]["transactionNo"]
    assert [t["transactionNo"] for t in await transactions(client, till)].count(number) == 1
    assert assert_ok(await till.get(cart_id))["data"]["transactionNo"] == number


async def test_concurrent_bills_on_one_terminal_get_distinct_numbers(stack, client):
    shop = await new_shop(stack, client)
    till = Register(client, shop, shop.tills[0])
    carts = []
    for _ in range(6):
        cart_id = await till.create()
        assert_ok(await till.add(cart_id, ("4905", 1)))
        assert_ok(await till.subtotal(cart_id))
        assert_ok(await till.pay(cart_id, ("01", 1000)))
        carts.append(cart_id)
    results = await asyncio.gather(*(till.bill(c) for c in carts))
    billed = [assert_ok(r)["data"] for r in results]
    assert sorted(b["transactionNo"] for b in billed) == [1, 2, 3, 4, 5, 6]
    assert len({b["receiptNo"] for b in billed}) == 6


# ---- ownership -----------------------------------------------------------------------------


async def test_another_terminal_or_tenant_cannot_reach_a_cart(
    client, shop, other_shop, till, till2
):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4901", 1)))
    assert_error(await till2.get(cart_id), 403, "200002")
    assert_error(await till2.add(cart_id, ("4901", 1)), 403, "200002")
    assert_error(await till2.bill(cart_id), 403, "200002")
    stranger = Register(client, other_shop, other_shop.tills[0])
    assert_error(await stranger.get(cart_id), 404, "401002")
    assert_error(await stranger.add(cart_id, ("4901", 1)), 404, "401002")
    # A terminal_id that is not the key's own terminal.
    r = await client.get(
        f"{till.base}/{cart_id}",
        params={"terminal_id": till2.till.terminal_id},
        headers=till.till.headers,
    )
    assert_error(r, 401)
    assert len(assert_ok(await till.get(cart_id))["data"]["lineItems"]) == 1


async def test_another_tenant_cannot_read_or_void_transactions(client, shop, other_shop, till):
    billed = await till.sale(("4905", 1))
    stranger = Register(client, other_shop, other_shop.tills[0])
    url = till.transactions_url(f"/{billed['transactionNo']}")
    r = await client.get(url, params=stranger.till.params, headers=stranger.till.headers)
    assert_error(r, 403)
    r = await client.post(
        f"{url}/void",
        params=stranger.till.params,
        headers=stranger.till.headers,
        json=[{"paymentCode": "01", "amount": 129}],
    )
    assert_error(r, 403)


# ---- void and return -----------------------------------------------------------------------


async def void(client, till: Register, transaction_no: int, tenders, terminal_no=None):
    url = till.transactions_url(f"/{transaction_no}/void", terminal_no)
    body = [{"paymentCode": c, "amount": a} for c, a in tenders]
    return await client.post(url, params=till.till.params, headers=till.till.headers, json=body)


async def give_back(client, till: Register, transaction_no: int, tenders, terminal_no=None):
    url = till.transactions_url(f"/{transaction_no}/return", terminal_no)
    body = [{"paymentCode": c, "amount": a} for c, a in tenders]
    return await client.post(url, params=till.till.params, headers=till.till.headers, json=body)


async def test_void_once_with_the_original_tenders(client, till, till2):
    sale = await till.sale(("4901", 1), ("4904", 2), tenders=[("11", 1000), ("01", 2000)])
    total = int(sale["totalAmountWithTax"])  # 1100 + 1100 = 2200
    number = sale["transactionNo"]
    # Tenders must be the original's, for the same amounts, adding up to the total.
    assert_error(await void(client, till, number, [("01", total)]), 400, "300001")
    assert_error(await void(client, till, number, [("11", 1000)]), 400, "300001")
    # Only the terminal that recorded it may void it.
    r = await void(client, till2, number, [("11", 1000), ("01", total - 1000)], 1)
    assert_error(r, 403)
    voided = assert_ok(await void(client, till, number, [("11", 1000), ("01", total - 1000)]))
    tran = voided["data"]
    assert tran["transactionType"] == 201 and tran["transactionNo"] != number
    assert tran["totalAmountWithTax"] == total
    assert "売上取消伝票" in tran["journalText"]
    again = await void(client, till, number, [("11", 1000), ("01", total - 1000)])
    assert "already been voided" in assert_error(again, 400, "403005")["message"]
    assert_error(await give_back(client, till, number, [("01", total)]), 400, "403005")
    r = await client.get(
        till.transactions_url(f"/{number}"), params=till.till.params, headers=till.till.headers
    )
    assert assert_ok(r)["data"]["status"]["isVoided"] is True


async def test_concurrent_voids_only_one_wins(client, till):
    sale = await till.sale(("4905", 2))
    total = int(sale["totalAmountWithTax"])
    results = await asyncio.gather(
        *(void(client, till, sale["transactionNo"], [("01", total)]) for _ in range(4))
    )
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400]
    voids = [t for t in await transactions(client, till) if t["transactionType"] == 201]
    assert sum(1 for r in results if r.status_code == 200) == 1
    assert len([v for v in voids if v["totalAmountWithTax"] == total]) >= 1


async def test_return_once_at_any_terminal_of_the_store(client, till, till2):
    sale = await till.sale(("4901", 2))
    total = int(sale["totalAmountWithTax"])
    number = sale["transactionNo"]
    returned = assert_ok(await give_back(client, till2, number, [("01", total)], 1))["data"]
    # Stamped with the terminal that took the return, numbered by its counter.
    assert returned["transactionType"] == 102 and returned["terminalNo"] == 2
    assert "返 品 伝 票" in returned["journalText"]
    again = await give_back(client, till2, number, [("01", total)], 1)
    assert "already been refunded" in assert_error(again, 400, "403006")["message"]
    assert_error(await void(client, till, number, [("01", total)]), 400, "403006")
    # Voiding the return (202) lets the sale be returned again.
    r = await void(client, till2, returned["transactionNo"], [("01", total)])
    assert assert_ok(r)["data"]["transactionType"] == 202
    assert_ok(await give_back(client, till, number, [("01", total)]))


async def test_refund_follows_the_payment_masters_can_refund(client, till):
    sale = await till.sale(("4905", 1), tenders=[("12", 129)])
    number = sale["transactionNo"]
    assert_error(await give_back(client, till, number, [("12", 129)]), 400, "403009")
    assert_error(await void(client, till, number, [("12", 129)]), 400, "403009")
    assert_ok(await give_back(client, till, number, [("01", 129)]))


async def test_cancelled_transactions_cannot_be_voided(client, till):
    cart_id = await till.create()
    assert_ok(await till.add(cart_id, ("4905", 1)))
    cancelled = assert_ok(await till.post(f"/{cart_id}/cancel"))["data"]
    r = await void(client, till, cancelled["transactionNo"], [("01", 129)])
    assert_error(r, 400, "300001")


async def test_tenant_setup_needs_an_admin_not_a_till(stack: Stack, client, shop, till):
    """Regression (access matrix, issue 12): the cart's tenant set-up took any token of the
    tenant, a till's JWT included; it needs the admin or manager role (or a service token)."""
    url = shop.url("cart", "/api/v1/tenants")
    mine = {"tenantId": shop.tenant_id}
    r = await client.post(
        shop.url("terminal", "/api/v1/auth/token"),
        headers=till.till.headers,
        params=till.till.params,
    )
    terminal_jwt = assert_ok(r)["data"]["access_token"]
    clerk = TokenCodec(stack.secret_key).issue_user_token(
        username="clerk",
        tenant_id=shop.tenant_id,
        is_superuser=False,
        roles=["user"],
        lifetime=timedelta(hours=1),
    )
    for token in (terminal_jwt, clerk):
        r = await client.post(url, json=mine, headers={"Authorization": f"Bearer {token}"})
        assert_error(r, 403, "200002")
    assert_ok(await client.post(url, json=mine, headers=shop.admin), 201)


async def test_numbers_beyond_mongodb_integers_are_a_422(client, shop, till):
    """Regression (schemathesis, issue 12): a transaction number or open counter above what
    MongoDB stores reached the query and answered 500 (OverflowError)."""
    huge = str(2**96)
    r = await client.get(till.transactions_url(f"/{huge}"), headers=shop.admin)
    assert_error(r, 422)
    r = await client.get(
        till.transactions_url("/session-summary"),
        headers=shop.admin,
        params={"business_date": "20260101", "open_counter": huge},
    )
    assert_error(r, 422)
    r = await client.get(till.transactions_url(), headers=shop.admin, params={"receipt_no": huge})
    assert_error(r, 422)
