"""A store ready to sell, set up through the services' HTTP APIs exactly as a back office and a
till would: tenant, store and terminals (terminal service), staff, items and payment methods
(master-data), then each terminal signed in and opened.

Used by the cart's integration tests, the end-to-end tests in `tests/` and the checkout
benchmark, so all three exercise the same path.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

STAFF_ID = "S001"
STAFF_NAME = "Taro"
STAFF_PIN = "1234"
# The cash each till opens with.
OPENING_FLOAT = 10000


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    price: int
    tax_code: str
    category: str = "001"
    restricted: bool = False
    stored_value: bool = False  # a gift card: sold with a card number, its price the load


# Tax codes of the default tax master: 00 exempt, 01 external 10 %, 02 internal 10 %,
# 11 external 8 %, 12 internal 8 %.
DEFAULT_ITEMS: tuple[ItemSpec, ...] = (
    ItemSpec("4901", "Green Tea 500ml", 1000, "01", "001"),
    ItemSpec("4902", "Rice Ball", 298, "12", "002"),
    ItemSpec("4903", "Stamp", 150, "00", "003"),
    ItemSpec("4904", "Sandwich", 550, "02", "002"),
    ItemSpec("4905", "Coffee", 120, "11", "001"),
    ItemSpec("4906", "Gift Card", 3000, "00", "009", restricted=True),
)


def payment(
    code: str,
    description: str,
    *,
    limit: int = 0,
    refund: bool = True,
    deposit_over: bool = False,
    change: bool = False,
    active: bool = True,
) -> dict[str, Any]:
    return {
        "paymentCode": code,
        "description": description,
        "limitAmount": limit,
        "canRefund": refund,
        "canDepositOver": deposit_over,
        "canChange": change,
        "isActive": active,
    }


DEFAULT_PAYMENTS: tuple[dict[str, Any], ...] = (
    payment("01", "Cash", deposit_over=True, change=True),
    payment("11", "Cashless", limit=100_000),
    payment("12", "Others", limit=100_000, refund=False),
)
# Gift cards and store credit (issue 26): the item that sells one, the method that pays with
# one (a shop that sells them adds both).
GIFT_CARD_ITEM = ItemSpec("GIFT", "Gift Card", 0, "00", "009", stored_value=True)
CARD_PAYMENT = payment("21", "Gift card / store credit")


@dataclass(frozen=True)
class Till:
    """One terminal of the store, with its API key."""

    terminal_id: str
    api_key: str
    store_code: str
    terminal_no: int

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key}

    @property
    def params(self) -> dict[str, str]:
        return {"terminal_id": self.terminal_id}


@dataclass
class Shop:
    tenant_id: str
    store_code: str
    admin: dict[str, str]
    urls: Mapping[str, str]  # service name -> root URL
    tills: list[Till] = field(default_factory=list)
    items: Sequence[ItemSpec] = DEFAULT_ITEMS

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"


def _check(response: httpx.Response, *expected: int) -> dict[str, Any]:
    if response.status_code not in expected:
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else {}


# The local mongoeco server fails a transaction that overlaps any other write (of any
# service), sometimes after applying it: set-up steps answered 5xx are retried, and a 409 after
# a 5xx means the first try was applied after all.
_TRIES = 4


async def _post(client: httpx.AsyncClient, url: str, expected: int, **kwargs: Any) -> dict | None:
    """POST; retried on 5xx. Returns the body, or None when an earlier try was applied."""
    failed = False
    for attempt in range(1, _TRIES + 1):
        r = await client.post(url, **kwargs)
        if r.status_code == expected:
            return r.json()
        if failed and r.status_code == 409:
            return None
        if r.status_code < 500 or attempt == _TRIES:
            _check(r, expected)
        failed = True
        await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


async def register_admin(client: httpx.AsyncClient, account_url: str) -> tuple[str, dict]:
    """A new tenant and its admin through the account service: (tenant id, bearer header).
    A registration answered 5xx may be half applied, so a retry takes a new tenant id."""
    password = secrets.token_urlsafe(12)
    for attempt in range(1, _TRIES + 1):
        tenant_id = "T" + secrets.token_hex(4).upper()
        r = await client.post(
            f"{account_url}/api/v1/accounts/register",
            json={"username": "admin", "password": password, "tenantId": tenant_id},
        )
        if r.status_code == 201:
            break
        if r.status_code < 500 or attempt == _TRIES:
            _check(r, 201)
        await asyncio.sleep(0.2 * attempt)
    r = await client.post(
        f"{account_url}/api/v1/accounts/token",
        data={"username": "admin", "password": password, "client_id": tenant_id},
    )
    token = _check(r, 200)["access_token"]
    return tenant_id, {"Authorization": f"Bearer {token}"}


async def add_till(client: httpx.AsyncClient, shop: Shop, terminal_no: int) -> Till:
    body = await _post(
        client,
        shop.url("terminal", "/api/v1/terminals"),
        201,
        headers=shop.admin,
        json={"storeCode": shop.store_code, "terminalNo": terminal_no, "description": "till"},
    )
    if body is None:  # created by a try answered 5xx: its key was lost, take a new one
        terminal_id = f"{shop.tenant_id}-{shop.store_code}-{terminal_no}"
        r = await client.post(
            shop.url("terminal", f"/api/v1/terminals/{terminal_id}/api-key"), headers=shop.admin
        )
        body = _check(r, 200)
    data = body["data"]
    till = Till(data["terminalId"], data["apiKey"], shop.store_code, terminal_no)
    shop.tills.append(till)
    return till


async def open_till(client: httpx.AsyncClient, shop: Shop, till: Till) -> None:
    base = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
    r = await client.post(
        f"{base}/sign-in", headers=till.headers, json={"staffId": STAFF_ID, "pin": STAFF_PIN}
    )
    _check(r, 200)
    for attempt in range(1, _TRIES + 1):
        r = await client.post(
            f"{base}/open", headers=till.headers, json={"initialAmount": OPENING_FLOAT}
        )
        if r.status_code == 200:
            return
        if r.status_code < 500 or attempt == _TRIES:
            _check(r, 200)
        state = await client.get(base, headers=till.headers, params=till.params)
        if _check(state, 200)["data"]["status"] == "Opened":
            return
        await asyncio.sleep(0.2 * attempt)


async def open_shop(
    client: httpx.AsyncClient,
    urls: Mapping[str, str],
    admin: dict[str, str] | None = None,
    tenant_id: str | None = None,
    *,
    terminals: int = 1,
    items: Sequence[ItemSpec] = DEFAULT_ITEMS,
    payments: Sequence[dict[str, Any]] = DEFAULT_PAYMENTS,
    promotions: Sequence[dict[str, Any]] = (),
    settings: Sequence[dict[str, Any]] = (),
) -> Shop:
    """Everything a sale needs; `admin` is a tenant admin's bearer header (default: a new
    tenant registered through the account service)."""
    if admin is None or tenant_id is None:
        tenant_id, admin = await register_admin(client, urls["account"])
    shop = Shop(tenant_id, "S" + secrets.token_hex(2).upper(), admin, urls, items=items)
    await _post(
        client,
        shop.url("terminal", "/api/v1/tenants"),
        201,
        headers=admin,
        json={"tenantId": tenant_id, "tenantName": "Shop"},
    )
    await _post(
        client,
        shop.url("terminal", f"/api/v1/tenants/{tenant_id}/stores"),
        201,
        headers=admin,
        json={"storeCode": shop.store_code, "storeName": "Main store"},
    )
    md = f"/api/v1/tenants/{tenant_id}"
    r = await client.post(
        shop.url("master-data", f"{md}/staff"),
        headers=admin,
        json={"id": STAFF_ID, "name": STAFF_NAME, "pin": STAFF_PIN, "roles": []},
    )
    _check(r, 201)
    for item in items:
        r = await client.post(
            shop.url("master-data", f"{md}/items"),
            headers=admin,
            json={
                "itemCode": item.code,
                "description": item.name,
                "unitPrice": item.price,
                "unitCost": 0,
                "itemDetails": [],
                "imageUrls": [],
                "categoryCode": item.category,
                "taxCode": item.tax_code,
                "isDiscountRestricted": item.restricted,
                "isStoredValue": item.stored_value,
            },
        )
        _check(r, 201)
    for body in payments:
        _check(
            await client.post(shop.url("master-data", f"{md}/payments"), headers=admin, json=body),
            201,
        )
    for body in promotions:
        r = await client.post(shop.url("master-data", f"{md}/promotions"), headers=admin, json=body)
        _check(r, 201)
    for body in settings:
        r = await client.post(shop.url("master-data", f"{md}/settings"), headers=admin, json=body)
        _check(r, 201)
    for number in range(1, terminals + 1):
        till = await add_till(client, shop, number)
        await open_till(client, shop, till)
    return shop


class Register:
    """The cart API as one till uses it (responses are returned as they come)."""

    def __init__(self, client: httpx.AsyncClient, shop: Shop, till: Till) -> None:
        self.client = client
        self.shop = shop
        self.till = till
        self.base = shop.url("cart", "/api/v1/carts")

    def _headers(self, key: str | None) -> dict[str, str]:
        return self.till.headers | ({"Idempotency-Key": key} if key else {})

    async def post(self, path: str, body: Any = None, *, key: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"{self.base}{path}", params=self.till.params, headers=self._headers(key), json=body
        )

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.client.patch(
            f"{self.base}{path}", params=self.till.params, headers=self.till.headers, json=body
        )

    async def open_cart(self, *, key: str | None = None) -> httpx.Response:
        """The create-cart request, answered as it comes (201 with the cart)."""
        return await self.post(
            "", {"transactionType": 101, "userId": "u1", "userName": "Guest"}, key=key
        )

    async def create(self, *, key: str | None = None) -> str:
        return _check(await self.open_cart(key=key), 201)["data"]["cartId"]

    async def get(self, cart_id: str) -> httpx.Response:
        return await self.client.get(
            f"{self.base}/{cart_id}", params=self.till.params, headers=self.till.headers
        )

    async def add(self, cart_id: str, *items: tuple[str, int], key: str | None = None):
        body = [{"itemCode": code, "quantity": qty} for code, qty in items]
        return await self.post(f"/{cart_id}/lineItems", body, key=key)

    async def subtotal(self, cart_id: str) -> httpx.Response:
        return await self.post(f"/{cart_id}/subtotal")

    async def pay(self, cart_id: str, *tenders: tuple[str, int], key: str | None = None):
        body = [{"paymentCode": code, "amount": amount} for code, amount in tenders]
        return await self.post(f"/{cart_id}/payments", body, key=key)

    async def bill(self, cart_id: str, *, key: str | None = None) -> httpx.Response:
        return await self.post(f"/{cart_id}/bill", key=key)

    async def sale(self, *items: tuple[str, int], tenders: Sequence[tuple[str, int]] = ()):
        """create → add → subtotal → pay (exact cash by default) → bill; the billed cart."""
        cart_id = await self.create()
        _check(await self.add(cart_id, *items), 200)
        total = _check(await self.subtotal(cart_id), 200)["data"]["totalAmountWithTax"]
        _check(await self.pay(cart_id, *(tenders or [("01", int(total))])), 200)
        return _check(await self.bill(cart_id), 200)["data"]

    def transactions_url(self, path: str = "", terminal_no: int | None = None) -> str:
        no = self.till.terminal_no if terminal_no is None else terminal_no
        return self.shop.url(
            "cart",
            f"/api/v1/tenants/{self.shop.tenant_id}/stores/{self.till.store_code}"
            f"/terminals/{no}/transactions{path}",
        )
