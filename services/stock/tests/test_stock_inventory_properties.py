"""Property: random interleavings of sales and returns (through the tranlog consumer route),
batch adjustments and receipts keep every item's quantity equal to the sum of its history,
and the average cost equal to the moving-average formula of docs/stock.md, replayed here
independently of the service's code."""

from __future__ import annotations

import itertools
import uuid
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
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
    await tenant.know(*ITEMS)  # the item master's (once per tenant)
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


# Two stores, counts and transfers too: goods are conserved across stores and transit.
STORES = (0, 1)
stores = st.sampled_from(STORES)
counted = st.decimals(min_value="0", max_value="40", places=2)
portions = st.sampled_from(["all", "half", "none"])

store_sale = st.tuples(
    st.just("sale"), stores, st.sampled_from([101, 102]), sale.map(lambda s: s[2])
)
store_adjustment = st.tuples(st.just("adjust"), stores, adjustment.map(lambda a: a[1]))
store_receipt = st.tuples(st.just("receive"), stores, receipt.map(lambda r: r[1]))
count = st.tuples(
    st.just("count"), stores, st.lists(st.tuples(items, counted), min_size=1, max_size=4)
)
shipment = st.tuples(
    st.just("ship"),
    stores,
    st.lists(st.tuples(items, amounts), min_size=1, max_size=3, unique_by=lambda x: x[0]),
)
taking_in = st.tuples(st.just("take"), st.integers(0, 5), portions, st.booleans())
cancelling = st.tuples(st.just("cancel"), st.integers(0, 5))
# Transfers weigh more: a receipt needs a shipment before it, and a discrepancy a partial one.
store_operations = st.lists(
    st.one_of(
        store_sale,
        store_adjustment,
        store_receipt,
        count,
        shipment,
        shipment,
        taking_in,
        taking_in,
        taking_in,
        cancelling,
    ),
    min_size=1,
    max_size=12,
)
HALF = Decimal("0.01")


class Model:
    """Quantities and average costs per (store, item), the open transfers, and what entered
    or left the tenant's goods from outside (sales, returns, receipts, adjustments, count
    variances, transfer discrepancies)."""

    def __init__(self, codes: tuple[str, str]) -> None:
        self.codes = codes
        self.on_hand = {(s, i): Decimal(0) for s in codes for i in ITEMS}
        self.average = {(s, i): Decimal(0) for s in codes for i in ITEMS}
        self.outside = Decimal(0)
        # transfer id, from, to, {item: [shipped, received, discrepancy, cost]}, status
        self.transfers: list[dict[str, Any]] = []

    def take_in(self, store: str, item: str, q: Decimal, cost: Decimal) -> None:
        key = (store, item)
        self.average[key] = moving_average(self.on_hand[key], self.average[key], q, cost)
        self.on_hand[key] += q

    def in_transit(self) -> Decimal:
        return sum(
            (
                shipped - received - lost
                for t in self.transfers
                if t["status"] != "cancelled"
                for shipped, received, lost, _ in t["lines"].values()
            ),
            Decimal(0),
        )


async def apply_multi(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant, op: tuple, m: Model
) -> None:
    kind = op[0]
    admin = tenant.admin
    if kind in ("sale", "adjust", "receive"):
        store = m.codes[op[1]]
        on_hand = {i: m.on_hand[(store, i)] for i in ITEMS}
        average = {i: m.average[(store, i)] for i in ITEMS}
        before = sum(on_hand.values(), Decimal(0))
        await apply(stack, client, tenant, store, (kind, *op[2:]), on_hand, average)
        m.outside += sum(on_hand.values(), Decimal(0)) - before
        for i in ITEMS:
            m.on_hand[(store, i)], m.average[(store, i)] = on_hand[i], average[i]
    elif kind == "count":
        store = m.codes[op[1]]
        opened = assert_ok(
            await client.post(tenant.stock(store, "/counts"), json={}, headers=admin), 201
        )
        count_id = opened["data"]["countId"]
        lines = [
            {"itemCode": i, "zone": f"z{n}", "countedQuantity": str(c)}
            for n, (i, c) in enumerate(op[2])
        ]
        assert_ok(
            await client.put(
                tenant.stock(store, f"/counts/{count_id}/lines"), json=lines, headers=admin
            )
        )
        assert_ok(await client.post(tenant.stock(store, f"/counts/{count_id}/post"), headers=admin))
        totals: dict[str, Decimal] = {}
        for i, c in op[2]:
            totals[i] = totals.get(i, Decimal(0)) + c
        for i, c in totals.items():
            m.outside += c - m.on_hand[(store, i)]
            m.on_hand[(store, i)] = c
    elif kind == "ship":
        source, target = m.codes[op[1]], m.codes[1 - op[1]]
        body = {
            "fromStore": source,
            "toStore": target,
            "lines": [{"itemCode": i, "quantity": str(q)} for i, q in op[2]],
        }
        shipped = assert_ok(
            await client.post(f"{tenant.base}/stock/transfers", json=body, headers=admin), 201
        )["data"]
        lines = {}
        for i, q in op[2]:
            lines[i] = [q, Decimal(0), Decimal(0), m.average[(source, i)]]
            m.on_hand[(source, i)] -= q
        for line in shipped["lines"]:
            assert num(line["unitCost"]) == lines[line["itemCode"]][3]
        m.transfers.append(
            {
                "id": shipped["transferId"],
                "from": source,
                "to": target,
                "lines": lines,
                "status": "shipped",
            }
        )
    elif kind == "take" and m.transfers:
        t = m.transfers[op[1] % len(m.transfers)]
        portion, complete = op[2], op[3]
        wanted = []
        for i, (shipped, received, lost, _) in t["lines"].items():
            left = shipped - received - lost
            q = {
                "all": left,
                "half": (left / 2).quantize(HALF, rounding=ROUND_DOWN),
                "none": Decimal(0),
            }[portion]
            if q > 0:
                wanted.append((i, q))
        if not wanted and not complete:
            return
        body = {
            "lines": [{"itemCode": i, "quantity": str(q)} for i, q in wanted],
            "complete": complete,
        }
        r = await client.post(
            f"{tenant.base}/stock/transfers/{t['id']}/receive", json=body, headers=admin
        )
        if t["status"] in ("received", "cancelled"):
            assert r.status_code == 409, r.text
            return
        data = assert_ok(r)["data"]
        for i, q in wanted:
            t["lines"][i][1] += q
            m.take_in(t["to"], i, q, t["lines"][i][3])
        if complete:
            for line in t["lines"].values():
                line[2] = line[0] - line[1]
                m.outside -= line[2]
        left = sum((s - rcv - lost for s, rcv, lost, _ in t["lines"].values()), Decimal(0))
        t["status"] = "received" if left == 0 else "partly_received"
        assert data["status"] == t["status"], (data, t)
    elif kind == "cancel" and m.transfers:
        t = m.transfers[op[1] % len(m.transfers)]
        r = await client.post(f"{tenant.base}/stock/transfers/{t['id']}/cancel", headers=admin)
        if t["status"] != "shipped":
            assert r.status_code == 409, r.text
            return
        assert_ok(r)
        for i, (shipped, _, _, cost) in t["lines"].items():
            m.take_in(t["from"], i, shipped, cost)
        t["status"] = "cancelled"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=store_operations)
async def test_goods_are_conserved_across_stores_and_transit(
    stack: Stack, client: httpx.AsyncClient, tenant: Tenant, ops: list[tuple]
) -> None:
    """Sales, returns, adjustments, receipts, counts and transfers between two stores: every
    row is its history's sum and the model's, every average the formula's (a transfer takes
    goods in at the sender's average when shipped), and the stores' total plus what is in
    transit moves only by sales, returns, receipts, adjustments, count variances and transfer
    discrepancies."""
    m = Model((new_store(), new_store()))
    await tenant.know(*ITEMS)
    for op in ops:
        await apply_multi(stack, client, tenant, op, m)
    total = Decimal(0)
    for store in m.codes:
        valuation = assert_ok(
            await client.get(tenant.stock(store, "/valuation"), headers=tenant.admin)
        )["data"]
        valued = {i["itemCode"]: i for i in valuation["items"]}
        for item in ITEMS:
            current = await quantity(client, tenant, store, item)
            rows = await history(client, tenant, store, item)
            if current is None:
                assert rows == [] and m.on_hand[(store, item)] == 0, (store, item, ops)
                continue
            total += num(current)
            assert num(current) == m.on_hand[(store, item)], (store, item, ops)
            assert sum((num(r["quantityChange"]) for r in rows), Decimal(0)) == num(current)
            assert num(valued[item]["averageCost"]) == m.average[(store, item)], (store, item, ops)
    listed = assert_ok(
        await client.get(
            f"{tenant.base}/stock/transfers",
            params={"store": m.codes[0], "limit": 1000},
            headers=tenant.admin,
        )
    )["data"]["data"]
    assert len(listed) == len(m.transfers)
    in_transit = sum(
        (
            num(line["inTransitQuantity"])
            for t in listed
            for line in t["lines"]
            if t["status"] != "cancelled"
        ),
        Decimal(0),
    )
    assert in_transit == m.in_transit(), (listed, ops)
    assert total + in_transit == m.outside, ops
