"""Property: random interleavings of sales and returns (through the tranlog consumer route),
batch adjustments and receipts keep every item's quantity equal to the sum of its history,
and the average cost equal to the moving-average formula of docs/stock.md, replayed here
independently of the service's code."""

from __future__ import annotations

import itertools
import uuid
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kugelpos.devstack.stack import Stack
from kugelpos.testkit.testing import assert_ok

from .conftest import Tenant, history, new_store, quantity, tranlog

ITEMS = ("P", "Q", "R")
COST_STEP = Decimal("0.0001")
_references = itertools.count()

items = st.sampled_from(ITEMS)
amounts = st.decimals(min_value="0.01", max_value="40", places=2)
changes = st.decimals(min_value="-30", max_value="30", places=2).filter(lambda d: d != 0)
costs = st.decimals(min_value="0", max_value="99", places=4)

sale = st.tuples(
    st.just("sale"),
    st.sampled_from([101, 102]),
    st.lists(st.tuples(items, amounts), min_size=1, max_size=3),
)
adjustment = st.tuples(
    st.just("adjust"), st.lists(st.tuples(items, changes), min_size=1, max_size=4)
)
receipt = st.tuples(
    st.just("receive"), st.lists(st.tuples(items, amounts, costs), min_size=1, max_size=3)
)
operations = st.lists(st.one_of(sale, adjustment, receipt), min_size=1, max_size=10)


def moving_average(on_hand: Decimal, average: Decimal, received: Decimal, cost: Decimal) -> Decimal:
    if on_hand <= 0:
        return cost
    with localcontext() as ctx:
        ctx.prec = 60
        exact = (on_hand * average + received * cost) / (on_hand + received)
    return exact.quantize(COST_STEP, rounding=ROUND_HALF_UP)


def num(value: Any) -> Decimal:
    return Decimal(str(value))


async def apply(
    stack: Stack,
    client: httpx.AsyncClient,
    tenant: Tenant,
    store: str,
    op: tuple,
    on_hand: dict[str, Decimal],
    average: dict[str, Decimal],
) -> None:
    kind = op[0]
    if kind == "sale":
        _, transaction_type, lines = op
        log = tranlog(
            tenant.tenant_id,
            store,
            [(item, float(q)) for item, q in lines],
            transaction_type=transaction_type,
        )
        r = await client.post(
            "/api/v1/tranlog",
            json={"specversion": "1.0", "id": log["event_id"], "data": log},
            headers={"dapr-api-token": stack.app_token},
        )
        assert r.status_code == 200 and r.json()["status"] == "SUCCESS", r.text
        sign = -1 if transaction_type == 101 else 1
        for item, q in lines:
            on_hand[item] += sign * q
    elif kind == "adjust":
        body = {
            "lines": [
                {"itemCode": item, "quantityChange": str(c), "reason": "property"}
                for item, c in op[1]
            ]
        }
        r = await client.post(tenant.stock(store, "/adjustments"), json=body, headers=tenant.admin)
        assert_ok(r, 201)
        for item, c in op[1]:
            on_hand[item] += c
    else:
        body = {
            "supplier": "S",
            "reference": f"P-{next(_references)}-{uuid.uuid4().hex[:6]}",
            "lines": [
                {"itemCode": item, "quantity": str(q), "unitCost": str(c)} for item, q, c in op[1]
            ],
        }
        r = await client.post(tenant.stock(store, "/receipts"), json=body, headers=tenant.admin)
        answered = assert_ok(r, 201)["data"]["lines"]
        for (item, q, c), line in zip(op[1], answered, strict=True):
            average[item] = moving_average(on_hand[item], average[item], q, c)
            assert num(line["beforeQuantity"]) == on_hand[item], (item, line)
            on_hand[item] += q
            assert num(line["afterQuantity"]) == on_hand[item], (item, line)
            assert num(line["averageCost"]) == average[item], (item, line, op)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_quantities_are_their_history_and_costs_follow_the_formula(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant, ops: list[tuple]
) -> None:
    store = new_store()  # one store per example: examples share the tenant
    on_hand = dict.fromkeys(ITEMS, Decimal(0))
    average = dict.fromkeys(ITEMS, Decimal(0))
    for op in ops:
        await apply(stack, client, tenant, store, op, on_hand, average)
    valuation = assert_ok(
        await client.get(tenant.stock(store, "/valuation"), headers=tenant.admin)
    )["data"]
    valued = {i["itemCode"]: i for i in valuation["items"]}
    for item in ITEMS:
        current = await quantity(client, tenant, store, item)
        rows = await history(client, tenant, store, item)
        if current is None:  # never touched in this example
            assert rows == [] and item not in valued
            continue
        assert num(current) == on_hand[item], (item, ops)
        assert sum((num(r["quantityChange"]) for r in rows), Decimal(0)) == on_hand[item]
        for row in rows:
            assert num(row["afterQuantity"]) == num(row["beforeQuantity"]) + num(
                row["quantityChange"]
            )
        assert num(valued[item]["averageCost"]) == average[item], (item, ops)
        value = (on_hand[item] * average[item]).quantize(COST_STEP, rounding=ROUND_HALF_UP)
        assert num(valued[item]["value"]) == value, (item, ops)
    assert num(valuation["totalValue"]) == sum(
        (num(i["value"]) for i in valuation["items"]), Decimal(0)
    )
