"""A price change in master-data reaches the till's next sale at once: master-data announces it
on `masterdata_changed` and the cart drops its cached read, without waiting for the cache TTL
(10 s in the cart, 5 s in master-data)."""

from __future__ import annotations

import asyncio

import httpx

from kugelpos.devstack.pos import Register, open_shop
from kugelpos.testkit.testing import assert_ok

# Well under both cache TTLs: only the notice can explain the new price this fast.
WITHIN_SECONDS = 3.0


async def _unit_price(register: Register, code: str) -> float:
    cart_id = await register.create()
    r = await register.add(cart_id, (code, 1))
    return assert_ok(r)["data"]["lineItems"][0]["unitPrice"]


async def _eventually_priced(register: Register, code: str, price: float) -> float:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN_SECONDS
    while True:
        seen = await _unit_price(register, code)
        if seen == price or loop.time() > deadline:
            return seen
        await asyncio.sleep(0.1)


async def test_a_price_change_reaches_the_next_sale(stack):
    urls = {n: stack.url(n) for n in ("account", "terminal", "master-data", "cart")}
    async with httpx.AsyncClient(timeout=30) as client:
        shop = await open_shop(client, urls, terminals=1)
        register = Register(client, shop, shop.tills[0])
        item = next(i for i in shop.items if not i.restricted)
        base = f"/api/v1/tenants/{shop.tenant_id}"
        assert await _unit_price(register, item.code) == item.price  # now cached in the cart

        # A store price for this store, then a change of it.
        r = await client.post(
            shop.url("master-data", f"{base}/stores/{shop.tills[0].store_code}/items"),
            headers=shop.admin,
            json={"itemCode": item.code, "storePrice": item.price + 100},
        )
        assert_ok(r, 201)
        assert await _eventually_priced(register, item.code, item.price + 100) == item.price + 100

        r = await client.put(
            shop.url("master-data", f"{base}/stores/{shop.tills[0].store_code}/items/{item.code}"),
            headers=shop.admin,
            json={"storePrice": item.price + 7},
        )
        assert_ok(r)
        assert await _eventually_priced(register, item.code, item.price + 7) == item.price + 7
