"""The property of the store's data feed (issue 27): whatever changes master data goes through,
a till that took a full snapshot once and then only deltas holds exactly what a fresh full
snapshot says, and its items' prices are what master-data's ordinary reads say (the common
item with the store's price, as the cart prices it).

A rule-based state machine makes random changes through master-data's API (item prices and
tax codes, store prices of two stores, item deletes and recreations, promotions, staff,
payments, settings, return reasons); now and then the tills of both stores catch up with a
delta in pages of random size and are compared. A few examples of a few dozen steps: well
under a minute on the session's stack.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.devstack.stack import Stack

from .conftest import Tenant, new_tenant

STORES = ("S1", "S2")
ITEMS = ("A", "B", "C", "D")
TAXES = ("01", "02", "11")
CODES = ("X1", "X2")  # payments, promotions, staff, settings, return reasons
PRICES = st.integers(min_value=0, max_value=500)  # 0: a store price that defers to the item
PAST = (datetime.now(UTC) - timedelta(days=1)).isoformat()
FAR = (datetime.now(UTC) + timedelta(days=365)).isoformat()

type State = dict[tuple[str, str], Any]


def apply(state: State, changes: list[dict]) -> None:
    for c in changes:
        if c["op"] == "upsert":
            state[(c["kind"], c["key"])] = c["data"]
        else:
            assert c["op"] == "delete" and c["data"] is None, c
            state.pop((c["kind"], c["key"]), None)


def effective(details: dict) -> float:
    """The cart's rule (pricing.lines.resolve_unit_price): a non-zero store price, else the
    item's unit price."""
    store = details.get("storePrice")
    return float(Decimal(str(store))) if store else float(Decimal(str(details["unitPrice"])))


async def test_a_till_rebuilt_from_snapshot_and_deltas_is_the_master_data(
    stack: Stack, codec: TokenCodec
) -> None:
    tenant = await new_tenant(stack, codec)
    tills = {store: await tenant.till(store) for store in STORES}
    # The machine drives a blocking client, off the event loop the stack's fixtures run on.
    await asyncio.to_thread(run_feed_machine, stack.url("master-data"), tenant, tills)


def run_feed_machine(url: str, tenant: Tenant, tills: dict[str, dict[str, str]]) -> None:
    admin = tenant.admin
    base = tenant.base
    http = httpx.Client(base_url=url, timeout=30)

    def ok(r: httpx.Response, *statuses: int) -> dict:
        assert r.status_code in (statuses or (200,)), r.text
        return r.json()

    def pages(store: str, since: str | None, limit: int) -> tuple[list[dict], str]:
        changes: list[dict] = []
        while True:
            params: dict[str, Any] = {"limit": limit}
            if since is not None:
                params["since"] = since
            data = ok(http.get(f"{base}/stores/{store}/sync", params=params, headers=tills[store]))
            page = data["data"]
            assert len(page["changes"]) <= limit
            changes += page["changes"]
            since = page["cursor"]
            if not page["hasMore"]:
                return changes, since

    category = {"categoryCode": "C1", "description": "C", "descriptionShort": "C", "taxCode": "01"}
    ok(http.post(f"{base}/categories", json=category, headers=admin), 201)

    class Feed(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tills: dict[str, tuple[State, str]] = {}

        @initialize(limit=st.integers(min_value=1, max_value=7))
        def first_snapshot(self, limit: int) -> None:
            for store in STORES:
                changes, cursor = pages(store, None, limit)
                state: State = {}
                apply(state, changes)
                self.tills[store] = (state, cursor)

        # ---- items and their prices ----------------------------------------------------

        @rule(code=st.sampled_from(ITEMS), price=PRICES, tax=st.sampled_from(TAXES))
        def set_item(self, code: str, price: int, tax: str) -> None:
            body = {
                "itemCode": code,
                "description": f"Item {code}",
                "unitPrice": price,
                "unitCost": 1,
                "itemDetails": [],
                "imageUrls": [],
                "categoryCode": "C1",
                "taxCode": tax,
            }
            r = http.put(f"{base}/items/{code}", json=body, headers=admin)
            if r.status_code == 404:  # none, or logically deleted: make it (again)
                http.delete(f"{base}/items/{code}", headers=admin)  # physical, if any
                ok(http.post(f"{base}/items", json=body, headers=admin), 201)
            else:
                ok(r)

        @rule(code=st.sampled_from(ITEMS), logical=st.booleans())
        def delete_item(self, code: str, logical: bool) -> None:
            r = http.delete(
                f"{base}/items/{code}", params={"is_logical": str(logical).lower()}, headers=admin
            )
            ok(r, 200, 404)

        @rule(code=st.sampled_from(ITEMS), store=st.sampled_from(STORES), price=PRICES)
        def set_store_price(self, code: str, store: str, price: int) -> None:
            url = f"{base}/stores/{store}/items"
            r = http.put(f"{url}/{code}", json={"storePrice": price}, headers=admin)
            if r.status_code == 404:
                r = http.post(url, json={"itemCode": code, "storePrice": price}, headers=admin)
                ok(r, 201, 404)  # 404: no active item to price
            else:
                ok(r)

        @rule(code=st.sampled_from(ITEMS), store=st.sampled_from(STORES))
        def delete_store_price(self, code: str, store: str) -> None:
            ok(http.delete(f"{base}/stores/{store}/items/{code}", headers=admin), 200, 404)

        @rule(tax=st.sampled_from(TAXES))
        def category_tax(self, tax: str) -> None:
            body = {"description": "C", "descriptionShort": "C", "taxCode": tax}
            ok(http.put(f"{base}/categories/C1", json=body, headers=admin))

        # ---- the rest of what a till holds ------------------------------------------------

        @rule(
            code=st.sampled_from(CODES),
            stores=st.sampled_from([[], ["S1"], ["S2"]]),
            active=st.booleans(),
            rate=st.integers(min_value=1, max_value=50),
        )
        def set_promotion(self, code: str, stores: list[str], active: bool, rate: int) -> None:
            detail = {
                "targetStoreCodes": stores,
                "targetCategoryCodes": ["C1"],
                "discountRate": rate,
            }
            r = http.put(
                f"{base}/promotions/{code}",
                json={"isActive": active, "detail": detail},
                headers=admin,
            )
            if r.status_code == 404:
                body = {
                    "promotionCode": code,
                    "promotionType": "category_discount",
                    "name": code,
                    "startDatetime": PAST,
                    "endDatetime": FAR,
                    "isActive": active,
                    "detail": detail,
                }
                # A deleted promotion's code is not reused: 409 then.
                ok(http.post(f"{base}/promotions", json=body, headers=admin), 201, 409)
            else:
                ok(r)

        @rule(code=st.sampled_from(CODES))
        def delete_promotion(self, code: str) -> None:
            ok(http.delete(f"{base}/promotions/{code}", headers=admin), 200, 404)

        @rule(code=st.sampled_from(CODES), name=st.sampled_from(["Ann", "Bob"]))
        def set_staff(self, code: str, name: str) -> None:
            body = {"name": name, "pin": "1234", "roles": ["cashier"]}
            r = http.put(f"{base}/staff/{code}", json=body, headers=admin)
            if r.status_code == 404:
                ok(http.post(f"{base}/staff", json={"id": code, **body}, headers=admin), 201)
            else:
                ok(r)

        @rule(code=st.sampled_from(CODES), limit=st.integers(min_value=0, max_value=900))
        def set_payment(self, code: str, limit: int) -> None:
            body = {
                "description": f"Pay {code}",
                "limitAmount": limit,
                "canRefund": True,
                "canDepositOver": False,
                "canChange": limit % 2 == 0,
                "isActive": True,
            }
            r = http.put(f"{base}/payments/{code}", json=body, headers=admin)
            if r.status_code == 404:
                r = http.post(f"{base}/payments", json={"paymentCode": code, **body}, headers=admin)
                ok(r, 201)
            else:
                ok(r)

        @rule(
            code=st.sampled_from(CODES),
            default=st.sampled_from(["a", "b"]),
            store=st.sampled_from([None, "S1", "S2"]),
        )
        def set_setting(self, code: str, default: str, store: str | None) -> None:
            values = [] if store is None else [{"storeCode": store, "value": f"v-{store}"}]
            body = {"defaultValue": default, "values": values}
            r = http.put(f"{base}/settings/{code}", json=body, headers=admin)
            if r.status_code == 404:
                ok(http.post(f"{base}/settings", json={"name": code, **body}, headers=admin), 201)
            else:
                ok(r)

        @rule(code=st.sampled_from(CODES), restock=st.booleans())
        def set_return_reason(self, code: str, restock: bool) -> None:
            body = {"description": f"Reason {code}", "restock": restock}
            r = http.put(f"{base}/return-reasons/{code}", json=body, headers=admin)
            if r.status_code == 404:
                body["reasonCode"] = code
                ok(http.post(f"{base}/return-reasons", json=body, headers=admin), 201)
            else:
                ok(r)

        @rule(
            kind=st.sampled_from(["staff", "payments", "settings", "return-reasons"]),
            code=st.sampled_from(CODES),
        )
        def delete_other(self, kind: str, code: str) -> None:
            ok(http.delete(f"{base}/{kind}/{code}", headers=admin), 200, 404)

        # ---- the property -----------------------------------------------------------------

        @rule(limit=st.integers(min_value=1, max_value=5), snapshot_limit=st.integers(1, 9))
        def catch_up_and_compare(self, limit: int, snapshot_limit: int) -> None:
            for store in STORES:
                state, cursor = self.tills[store]
                changes, cursor = pages(store, cursor, limit)
                apply(state, changes)
                self.tills[store] = (state, cursor)
                fresh: State = {}
                apply(fresh, pages(store, None, snapshot_limit)[0])
                assert state == fresh, store
                # What the ordinary reads say of the items: the active ones, priced for the
                # store as the cart prices them.
                listed = ok(http.get(f"{base}/items", params={"limit": 0}, headers=admin))
                active = sorted(i["itemCode"] for i in listed["data"] if not i["isDeleted"])
                assert sorted(k for kind, k in state if kind == "item") == active
                # The promotions the cart would apply in this store (all are in their dates).
                running = ok(
                    http.get(
                        f"{base}/promotions/active", params={"storeCode": store}, headers=admin
                    )
                )["data"]
                held = {k: v for (kind, k), v in state.items() if kind == "promotion"}
                assert sorted(held) == sorted(p["promotionCode"] for p in running), store
                for p in running:
                    assert held[p["promotionCode"]]["detail"] == p["detail"]
                # The other kinds: the records the ordinary lists have.
                for kind, path, field in (
                    ("payment", "payments", "paymentCode"),
                    ("staff", "staff", "id"),
                    ("setting", "settings", "name"),
                    ("return_reason", "return-reasons", "reasonCode"),
                    ("category", "categories", "categoryCode"),
                ):
                    listed_kind = ok(http.get(f"{base}/{path}", params={"limit": 0}, headers=admin))
                    assert sorted(k for kd, k in state if kd == kind) == sorted(
                        r[field] for r in listed_kind["data"]
                    ), kind
                for code in active:
                    details = ok(
                        http.get(f"{base}/stores/{store}/items/{code}/details", headers=admin)
                    )["data"]
                    held = state[("item", code)]
                    assert held["price"] == effective(details), (store, code)
                    assert held["unitPrice"] == details["unitPrice"]
                    assert held["storePrice"] == details["storePrice"]
                    assert held["taxCode"] == details["taxCode"]

        def teardown(self) -> None:
            # Every example ends compared, whatever its last steps were.
            if self.tills:
                self.catch_up_and_compare(limit=3, snapshot_limit=4)

    Feed.TestCase.settings = settings(
        max_examples=4,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        run_state_machine_as_test(Feed, settings=Feed.TestCase.settings)
    finally:
        http.close()
