"""The cart's seeding module (the history `make bench` gives a store) writes sales the cart
itself reads back: listed through the API by business day, each with its outbox record, and
every till's next sale numbered after them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from kugelpos.cart import seeding
from kugelpos.devstack.pos import Register, open_shop
from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_ok

SEEDED = 7  # 4 on the first till, 3 on the second


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def test_seeded_history_reads_back_and_numbers_go_on(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    urls = {name: stack.url(name) for name in ("account", "terminal", "master-data", "cart")}
    shop = await open_shop(client, urls, terminals=2)
    first, second = (Register(client, shop, till) for till in shop.tills)
    template = await first.sale(("4901", 1), ("4905", 2))

    history = await seeding.seed_history(
        mongodb_uri=stack.mongo_uri_for("cart"),
        db_name_prefix=stack.db_prefix("cart"),
        tenant_id=shop.tenant_id,
        template_cart_id=template["cartId"],
        tills=[seeding.Till(till.terminal_id, till.terminal_no) for till in shop.tills],
        count=SEEDED,
    )

    assert history.sales == SEEDED and history.unacknowledged == 0
    assert history.oldest_day is not None and history.oldest_day < template["businessDate"]
    assert history.oldest_day_sales == 4
    assert history.outbox_total >= SEEDED + 1
    # The first till's seeded day, through the cart's own list endpoint.
    r = await client.get(
        first.transactions_url(),
        params=first.till.params | {"business_date": history.oldest_day, "limit": 10},
        headers=first.till.headers,
    )
    body = assert_ok(r)
    assert body["metadata"]["total"] == 4
    assert sorted(t["transactionNo"] for t in body["data"]) == [2, 3, 4, 5]
    assert {t["totalAmountWithTax"] for t in body["data"]} == {template["totalAmountWithTax"]}
    # Each copy has its outbox record, delivered to every consumer of the template's.
    mongo = AsyncMongoClient(stack.mongo_uri_for("cart"), tz_aware=True)
    try:
        tranlogs = mongo[stack.db_name("cart", shop.tenant_id)]["log_tran"]
        events = [doc["event_id"] async for doc in tranlogs.find({}, {"event_id": 1})]
        outbox = mongo[stack.db_name("cart", "commons")]["outbox"]
        records = await outbox.count_documents({"_id": {"$in": events}, "gave_up": False})
    finally:
        await mongo.close()
    assert len(events) == len(set(events)) == SEEDED + 1
    assert records == SEEDED + 1
    # The counters were advanced past the history: the next sales go on from there.
    assert (await first.sale(("4901", 1)))["transactionNo"] == 6
    assert (await second.sale(("4901", 1)))["transactionNo"] == 4
