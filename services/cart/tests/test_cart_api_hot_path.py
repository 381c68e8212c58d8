"""The hot path, in process: adding an item calls another service at most once on a cache miss
and never on a hit; the terminal's API key is checked against `terminalstore` before the
terminal service; cart saves are conditional on the ETag read; a completed cart is recorded
once, against the stack's MongoDB."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from kugelpos.cart.cache.terminals import TerminalInfo, TerminalInfoCache
from kugelpos.cart.carts.repository import CartConflictError, CartStore
from kugelpos.cart.carts.schemas import CartCreateRequest, ItemRequest, PaymentRequest
from kugelpos.cart.carts.service import CartService
from kugelpos.cart.config import CartSettings
from kugelpos.cart.domain.models import Person
from kugelpos.cart.errors import CartInternalError, CashTenderOverLimitError
from kugelpos.cart.master_data_client import MasterDataClient
from kugelpos.cart.plugins.registry import load_plugins
from kugelpos.cart.transactions.service import TransactionService
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.breaker import BreakerRegistry
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AuthenticationError
from kugelpos.common.events.outbox import Outbox

MD = "http://master-data.test/api/v1"
TERMINAL = "http://terminal.test/api/v1"
DAPR = "http://sidecar.test"
SECRET = "hot-path-test-secret-0123456789abcdef"


def envelope(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "code": 200, "data": data})


class Upstreams:
    """Fake master-data, terminal service and Dapr sidecar (state with ETags)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.state: dict[str, tuple[Any, int]] = {}
        self.terminal_key = "good-key"
        self.fail_saves = False  # the state store goes down (saves answer 500)
        self.settings: list[dict[str, Any]] = []  # the tenant's settings master

    @property
    def service_calls(self) -> list[str]:
        return [c for c in self.calls if not c.startswith(DAPR)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        self.calls.append(url)
        if url.startswith(DAPR):
            return self._dapr(request)
        path = request.url.path
        if path.endswith("/details"):
            code = path.split("/")[-2]
            if code == "missing":
                return httpx.Response(404, json={"success": False})
            return envelope(
                {
                    "itemCode": code,
                    "description": f"Item {code}",
                    "unitPrice": 100,
                    "categoryCode": "001",
                    "taxCode": "01",
                    "isDiscountRestricted": False,
                }
            )
        if path.endswith("/taxes"):
            return envelope(
                [
                    {
                        "taxCode": "01",
                        "taxType": "External",
                        "taxName": "10%",
                        "rate": 10,
                        "roundDigit": 0,
                        "roundMethod": "Floor",
                    }
                ]
            )
        if path.endswith("/settings"):
            return envelope(self.settings)
        if path.endswith("/promotions/active"):
            return envelope([])
        if "/payments/" in path:
            return envelope(
                {
                    "paymentCode": path.rsplit("/", 1)[-1],
                    "description": "Cash",
                    "limitAmount": 0,
                    "canDepositOver": True,
                    "canChange": True,
                    "isActive": True,
                }
            )
        if "/stores/" in path and path.startswith("/api/v1/tenants"):
            return envelope({"storeName": "Main"})
        if path.startswith("/api/v1/terminals/"):
            if request.headers.get("x-api-key") != self.terminal_key:
                return httpx.Response(401, json={"success": False})
            return envelope(
                {
                    "terminalId": "T1-S1-1",
                    "tenantId": "T1",
                    "storeCode": "S1",
                    "terminalNo": 1,
                    "status": "Opened",
                    "staff": {"staffId": "S001", "staffName": "Taro"},
                }
            )
        return httpx.Response(404)

    def _dapr(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET":
            key = path.rsplit("/", 1)[-1]
            if key not in self.state:
                return httpx.Response(204)
            value, version = self.state[key]
            return httpx.Response(200, json=value, headers={"etag": str(version)})
        if request.method == "DELETE":
            self.state.pop(path.rsplit("/", 1)[-1], None)
            return httpx.Response(204)
        if self.fail_saves:
            return httpx.Response(500)
        (item,) = json.loads(request.content)
        current = self.state.get(item["key"])
        etag = item.get("etag")
        first = (item.get("options") or {}).get("concurrency") == "first-write"
        if etag is not None and (current is None or str(current[1]) != etag):
            return httpx.Response(409)
        if first and etag is None and current is not None:
            return httpx.Response(409)
        self.state[item["key"]] = (item["value"], (current[1] + 1) if current else 1)
        return httpx.Response(204)


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


@pytest.fixture
def http(upstreams) -> HttpClientHelper:
    return HttpClientHelper(
        transport=httpx.MockTransport(upstreams), backoff=0.0, breakers=BreakerRegistry()
    )


@pytest.fixture
def carts(http) -> CartService:
    settings = CartSettings(environment="development", secret_key=SECRET)
    dapr = DaprClientHelper(http, DAPR)
    masters = MasterDataClient(
        http, TokenCodec(SECRET), base_url_master_data=MD, base_url_terminal=TERMINAL, ttl=60
    )
    plugins = load_plugins(settings.plugins_file)
    store = CartStore(dapr, "cartstore", 3600)
    return CartService(store, masters, plugins, None, settings, None)  # type: ignore[arg-type]


TERMINAL_INFO = TerminalInfo(
    tenant_id="T1",
    store_code="S1",
    terminal_no=1,
    terminal_id="T1-S1-1",
    status="Opened",
    business_date="20250115",
    open_counter=1,
    business_counter=1,
    staff=Person(id="S001", name="Taro"),
)


async def test_add_item_calls_master_data_once_on_a_miss_and_never_on_a_hit(carts, upstreams):
    doc = await carts.create(TERMINAL_INFO, CartCreateRequest())
    cart_id = doc.cart.cart_id
    upstreams.calls.clear()
    await carts.add_items(TERMINAL_INFO, cart_id, [ItemRequest(item_code="A", quantity=1)])
    assert upstreams.service_calls == [f"{MD}/tenants/T1/stores/S1/items/A/details"]
    upstreams.calls.clear()
    for _ in range(3):
        await carts.add_items(TERMINAL_INFO, cart_id, [ItemRequest(item_code="A", quantity=1)])
    assert upstreams.service_calls == []
    # Only the cart's own state: one read and one conditional write per add.
    assert len(upstreams.calls) == 6
    cart = (await carts.get(TERMINAL_INFO, cart_id)).cart
    assert len(cart.line_items) == 4 and cart.total_amount_with_tax == 440


async def test_add_payment_reads_the_cash_ceilings_from_the_cart_not_master_data(carts, upstreams):
    # The tenant's ceiling is resolved into the cart's snapshot at creation; a payment asks
    # master-data for the payment master at most (on a miss), never for the settings.
    upstreams.settings = [{"name": "CASH_TENDER_LIMIT", "defaultValue": "5000", "values": []}]
    doc = await carts.create(TERMINAL_INFO, CartCreateRequest())
    cart_id = doc.cart.cart_id
    await carts.add_items(TERMINAL_INFO, cart_id, [ItemRequest(item_code="A", quantity=1)])
    upstreams.calls.clear()
    with pytest.raises(CashTenderOverLimitError):
        await carts.add_payments(
            TERMINAL_INFO, cart_id, [PaymentRequest(payment_code="01", amount=5001)]
        )
    assert upstreams.service_calls == [f"{MD}/tenants/T1/payments/01"]
    assert len(upstreams.calls) == 2  # and the cart's state read: nothing saved
    upstreams.calls.clear()
    paid = await carts.add_payments(
        TERMINAL_INFO, cart_id, [PaymentRequest(payment_code="01", amount=5000)]
    )
    assert upstreams.service_calls == []
    assert len(upstreams.calls) == 2  # one read and one conditional write
    assert paid.cart.change_amount == 5000 - 110 and paid.cart.balance_amount == 0


async def test_a_new_cart_reuses_the_cached_snapshot(carts, upstreams):
    await carts.create(TERMINAL_INFO, CartCreateRequest())
    upstreams.calls.clear()
    await carts.create(TERMINAL_INFO, CartCreateRequest())
    assert upstreams.service_calls == []


async def test_a_stale_etag_save_is_refused(carts, upstreams):
    doc = await carts.create(TERMINAL_INFO, CartCreateRequest())
    store = carts._store
    loaded, etag = await store.load("T1", doc.cart.cart_id)
    await store.save(loaded, etag)
    with pytest.raises(CartConflictError):
        await store.save(loaded, etag)


async def test_terminal_key_checked_through_terminalstore(http, upstreams):
    dapr = DaprClientHelper(http, DAPR)
    cache = TerminalInfoCache(http, dapr, TERMINAL, local_ttl_seconds=60)
    principal = await cache("T1-S1-1", "good-key")
    assert principal.tenant_id == "T1" and cache.remote_calls == 1
    assert TerminalInfo.from_principal(principal).staff == Person(id="S001", name="Taro")
    await cache("T1-S1-1", "good-key")
    assert cache.remote_calls == 1  # in-process hit
    # Another replica (empty local cache) finds it in terminalstore, key digest checked.
    other = TerminalInfoCache(http, dapr, TERMINAL, local_ttl_seconds=60)
    await other("T1-S1-1", "good-key")
    assert other.remote_calls == 0
    with pytest.raises(AuthenticationError):
        await other("T1-S1-1", "wrong-key")  # a cache hit never skips the key check
    assert other.remote_calls == 1
    await other.forget("T1-S1-1")
    assert "terminal:T1-S1-1" not in upstreams.state


def test_token_lifetime_is_enough_for_the_token_cache() -> None:
    from kugelpos.common.auth.tokens import SERVICE_TOKEN_MINUTES
    from kugelpos.common.clients.services import TOKEN_CACHE_SECONDS

    assert timedelta(minutes=SERVICE_TOKEN_MINUTES).total_seconds() > TOKEN_CACHE_SECONDS


class RecordingTransactions:
    """Stands in for TransactionService.complete_cart: one tranlog per cart, found again."""

    def __init__(self) -> None:
        self.recorded: dict[str, SimpleNamespace] = {}

    async def complete_cart(self, doc: Any, terminal: TerminalInfo) -> SimpleNamespace:
        cart_id = doc.cart.cart_id
        if cart_id not in self.recorded:
            self.recorded[cart_id] = SimpleNamespace(
                transaction_no=len(self.recorded) + 1,
                receipt_no=100 + len(self.recorded),
                receipt_text="receipt",
                journal_text="journal",
            )
        return self.recorded[cart_id]


async def test_a_recorded_sale_is_answered_even_if_the_final_cart_save_fails(carts, upstreams):
    # The tranlog is in MongoDB before the cart's final state is saved; if the state store
    # fails in between, an error answer would make the till ring the sale up a second time.
    transactions = RecordingTransactions()
    carts._transactions = transactions  # type: ignore[assignment]
    doc = await carts.create(TERMINAL_INFO, CartCreateRequest())
    cart_id = doc.cart.cart_id
    await carts.add_items(TERMINAL_INFO, cart_id, [ItemRequest(item_code="A", quantity=1)])
    upstreams.fail_saves = True
    done = await carts.cancel(TERMINAL_INFO, cart_id)
    assert done.cart.transaction_no == 1 and done.cart.receipt_no == 100
    assert done.cart.cart_status == "Cancelled"
    upstreams.fail_saves = False
    # The store still holds the cart as it was; completing it again finds the same tranlog.
    assert (await carts.get(TERMINAL_INFO, cart_id)).cart.cart_status != "Cancelled"
    again = await carts.cancel(TERMINAL_INFO, cart_id)
    assert again.cart.transaction_no == 1 and len(transactions.recorded) == 1
    assert (await carts.get(TERMINAL_INFO, cart_id)).cart.cart_status == "Cancelled"


# ---- completion, against the stack's MongoDB ------------------------------------------
# Tranlogs, counters and outbox are real, in databases of their own (prefix `completion`),
# so the running cart's relay never sees these events.


class RenderFailsOnce:
    """The receipt plugin, except that its first rendering raises (a broken template)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failures = 1

    def render(self, payload: dict[str, Any]) -> tuple[str, str]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("template error")
        return self.inner.render(payload)


@pytest.fixture
async def completing(stack, carts: CartService) -> AsyncIterator[tuple[CartService, Mongo]]:
    settings = CartSettings(
        environment="development",
        secret_key=SECRET,
        mongodb_uri=stack.mongo_uri_for("cart"),
        db_name_prefix="completion",
    )
    mongo = Mongo(settings)
    plugins = load_plugins(settings.plugins_file)
    plugins.receipts = {"default": RenderFailsOnce(plugins.receipt())}
    carts._transactions = TransactionService(  # type: ignore[assignment]
        mongo, Outbox(mongo.commons_db()), plugins, carts._masters, settings, set()
    )
    try:
        yield carts, mongo
    finally:
        await mongo.close()


async def _cart(carts: CartService, terminal) -> str:
    doc = await carts.create(terminal, CartCreateRequest())
    await carts.add_items(terminal, doc.cart.cart_id, [ItemRequest(item_code="A", quantity=1)])
    return doc.cart.cart_id


async def test_a_completion_is_recorded_once(completing) -> None:
    carts, mongo = completing
    tenant = f"N{uuid.uuid4().hex[:8].upper()}"
    terminal = replace(TERMINAL_INFO, tenant_id=tenant, terminal_id=f"{tenant}-S1-1")
    tranlogs = mongo.tenant_db(tenant)["log_tran"]
    events = mongo.commons_db()["outbox"]
    cart_id = await _cart(carts, terminal)
    # The receipt cannot be rendered: an error, and nothing is written.
    with pytest.raises(CartInternalError):
        await carts.cancel(terminal, cart_id)
    assert await tranlogs.count_documents({}) == 0
    assert await events.count_documents({"tenant_id": tenant}) == 0
    done = await carts.cancel(terminal, cart_id)
    stored = await tranlogs.find_one({"source_id": f"cart:{cart_id}"})
    assert stored is not None and stored["transaction_no"] == done.cart.transaction_no
    # A retried completion (say the final save was lost) writes nothing, counts nothing, and
    # answers the recorded tranlog.
    again = await carts._transactions.complete_cart(await carts.get(terminal, cart_id), terminal)
    assert (again.transaction_no, again.event_id) == (stored["transaction_no"], stored["event_id"])
    assert await tranlogs.count_documents({}) == 1
    assert await events.count_documents({"tenant_id": tenant}) == 1
    assert await events.count_documents({"event_id": stored["event_id"]}) == 1
    # The next sale of the terminal is numbered after it.
    second = await carts.cancel(terminal, await _cart(carts, terminal))
    assert second.cart.transaction_no > done.cart.transaction_no
    assert await tranlogs.count_documents({}) == 2
