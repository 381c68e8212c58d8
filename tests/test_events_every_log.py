"""Every log the cart can produce is handled by every consumer (issue 22).

Carts are driven through the cart's own pure operations (add, cancel a line, change quantity
or price, line and subtotal discounts, a category promotion, payments, resume, bill or cancel
the cart), and each finished cart becomes the transaction log the cart would publish, built by
the cart's own code (`transactions.tranlog.from_cart`, `reversal` for a void or a return, the
default receipt plugin for the texts): cancelled sales (101 with `sales.isCancelled`), carts
cancelled with no lines, sales with cancelled lines, with only discounted or zero-priced lines,
tax-exempt lines, promotion lines, returns (102), voids of a sale (201) and of a return (202).

Each log is applied by the journal's, the report's and the stock's own `EventConsumer` (their
handlers, the inbox, one transaction each) against the stack's MongoDB wire server, then
delivered again. Nothing may raise; each first delivery is applied (stock: dropped on purpose
when nothing moves stock), each second one a duplicate; and the effects equal a plain
recomputation from the logs: stock quantities, the report's counters (counts and amounts per
type, cancelled sales, payments, taxes, item quantities), the journal's entries and types.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kugelpos.cart import operations as ops
from kugelpos.cart.cache.terminals import TerminalInfo
from kugelpos.cart.carts.documents import CartDocument
from kugelpos.cart.domain.masters import ItemMaster, PaymentMaster
from kugelpos.cart.domain.models import Cart, CartStatus, Person
from kugelpos.cart.payments.rules import DEFAULT_RULES, refund
from kugelpos.cart.plugins.receipt import ReceiptRenderer
from kugelpos.cart.pricing.engine import PricingContext
from kugelpos.cart.promotions.category import ActivePromotion, CategoryPromotion
from kugelpos.cart.transactions import tranlog as build
from kugelpos.cart.transactions.documents import TranlogDocument
from kugelpos.common.errors import AppError
from kugelpos.common.events.consumer import Applied, EventConsumer
from kugelpos.common.events.logs import TOPIC_TRANLOG, TransactionLog
from kugelpos.common.infrastructure import Infrastructure, build_infrastructure
from kugelpos.common.settings import CommonSettings
from kugelpos.common.transactions import TransactionType
from kugelpos.journal.events import JournalEvents
from kugelpos.report.aggregates import report_figures
from kugelpos.report.events import ReportEvents
from kugelpos.report.figures import Selection
from kugelpos.stock.alerts.hub import AlertHub
from kugelpos.stock.alerts.service import AlertService
from kugelpos.stock.events import StockEvents
from kugelpos.stored_value.events import StoredValueEvents

TZ = "Asia/Tokyo"
STORE = "S1"
DAY = "20261206"
SALE, RETURN = TransactionType.NORMAL_SALES, TransactionType.RETURN_SALES
VOID_SALE, VOID_RETURN = TransactionType.VOID_SALES, TransactionType.VOID_RETURN
SIGN = {SALE: 1, RETURN: -1, VOID_SALE: -1, VOID_RETURN: 1}

ITEMS = (
    ItemMaster(item_code="T01", description="Tea", unit_price=D(1000), tax_code="01",
               category_code="001"),
    ItemMaster(item_code="R02", description="Rice ball", unit_price=D(298), tax_code="12",
               category_code="002"),
    # Tax exempt.
    ItemMaster(item_code="S03", description="Stamp", unit_price=D(150), tax_code="00",
               category_code="003"),
    # Zero-priced, in the promoted category.
    ItemMaster(item_code="Z04", description="Sample", unit_price=D(0), tax_code="02",
               category_code="001"),
    ItemMaster(item_code="G05", description="Gift card", unit_price=D(3000), tax_code="00",
               category_code="009", is_discount_restricted=True),
    ItemMaster(item_code="C06", description="Coffee", unit_price=D(120), tax_code="11",
               category_code="001"),
)  # fmt: skip
PAYMENTS = {
    "01": PaymentMaster(
        payment_code="01", description="Cash", can_deposit_over=True, can_change=True
    ),
    "11": PaymentMaster(payment_code="11", description="Card", limit_amount=D(100_000)),
}
# A 10 % category promotion on category 001 (tea, sample, coffee), as master-data serves it.
PROMOTION = ActivePromotion(
    promotion_code="P10",
    promotion_type="category_discount",
    name="Drinks 10%",
    detail={"targetCategoryCodes": ["001"], "discountRate": 10},
)
CTX = PricingContext(promotions=(CategoryPromotion((PROMOTION,)),))
RECEIPTS = ReceiptRenderer()

STEPS = ("add", "cancel_line", "qty", "price", "line_disc", "subtotal", "cart_disc", "pay",
         "resume")  # fmt: skip
steps_st = st.lists(
    st.tuples(st.sampled_from(STEPS), st.integers(0, 7), st.integers(0, 3000)), max_size=12
)
cart_st = st.tuples(
    steps_st,
    st.sampled_from(["bill", "cancel"]),
    st.sampled_from(["none", "void", "return", "return+void"]),
)


def _discount(value: int) -> ops.DiscountRequest:
    if value % 2:
        return ops.DiscountRequest("DiscountPercentage", value % 101)
    return ops.DiscountRequest("DiscountAmount", value)


def _step(cart: Cart, name: str, n: int, value: int) -> Cart:
    match name:
        case "add":
            return ops.add_items(cart, [ops.ItemEntry(ITEMS[n % len(ITEMS)], value % 4 + 1)], CTX)
        case "cancel_line":
            return ops.cancel_line_item(cart, n % 4 + 1, CTX)
        case "qty":
            return ops.update_line_quantity(cart, n % 4 + 1, value % 5 + 1, CTX)
        case "price":
            return ops.update_line_unit_price(cart, n % 4 + 1, 0 if value % 3 == 0 else value, CTX)
        case "line_disc":
            return ops.set_line_discounts(cart, n % 4 + 1, [_discount(value)], CTX)
        case "subtotal":
            return ops.subtotal(cart, CTX)
        case "cart_disc":
            return ops.set_subtotal_discounts(cart, [_discount(value)], CTX)
        case "pay":
            code = "01" if n % 2 else "11"
            tender = ops.TenderRequest(DEFAULT_RULES[code], PAYMENTS[code], value + 1)
            return ops.add_payments(cart, [tender], CTX)
        case _:
            return ops.resume_item_entry(cart, CTX)


def _bill(cart: Cart) -> Cart:
    if cart.cart_status is CartStatus.ENTERING_ITEM:
        cart = ops.subtotal(cart, CTX)
    if cart.balance_amount > 0:
        cash = ops.TenderRequest(DEFAULT_RULES["01"], PAYMENTS["01"], cart.balance_amount)
        cart = ops.add_payments(cart, [cash], CTX)
    return ops.bill(cart, CTX)


def ring_up(steps: list[tuple[str, int, int]], end: str) -> Cart | None:
    """A till session through the cart's operations; a refused step leaves the cart as it
    was (the service saves nothing). None: the cart could be neither billed nor cancelled."""
    cart = ops.create_cart(
        cart_id=uuid.uuid4().hex,
        tenant_id="T",
        store_code=STORE,
        terminal_no=1,
        terminal_status="Opened",
        staff=Person(id="S001", name="Taro"),
        business_date=DAY,
    )
    for name, n, value in steps:
        try:
            cart = _step(cart, name, n, value)
        except AppError:
            continue
    if end == "bill":
        try:
            return _bill(cart)
        except AppError:
            pass  # nothing to bill (no lines, say): the till cancels the cart instead
    try:
        return ops.cancel(cart)
    except AppError:
        return None


@dataclass
class Till:
    tenant_id: str
    terminal: TerminalInfo
    number: int = 0
    clock: int = 0

    def next(self) -> tuple[int, str]:
        self.number += 1
        self.clock += 1
        return self.number, f"2026-12-06T10:{self.clock // 60:02d}:{self.clock % 60:02d}+09:00"

    def rendered(self, fields: dict[str, Any]) -> TranlogDocument:
        tran = TranlogDocument.model_validate(fields)
        tran.receipt_text, tran.journal_text = RECEIPTS.render(tran.payload())
        return tran

    def sale(self, cart: Cart) -> TranlogDocument:
        cart = cart.model_copy(update={"tenant_id": self.tenant_id})
        number, now = self.next()
        doc = CartDocument(cart=cart, terminal_id=self.terminal.terminal_id, open_counter=1)
        fields = build.from_cart(
            doc,
            self.terminal,
            transaction_no=number,
            receipt_no=number,
            generate_date_time=now,
            reference_date_time=now,
            event_id=str(uuid.uuid4()),
        )
        return self.rendered(fields)

    def reverse(self, original: TranlogDocument, new_type: int) -> TranlogDocument | None:
        """The void or return the cart records (refund tenders as its rules build them); None
        when the cart would refuse it (e.g. a refund of nothing)."""
        try:
            if new_type == RETURN:
                total = original.sales["total_amount_with_tax"]
                payments = [refund(master=PAYMENTS["01"], amount=total, payment_no=1)]
            else:
                paid: Counter[str] = Counter()
                for p in original.payments:
                    paid[p["payment_code"]] += p["amount"]
                payments = [
                    refund(master=PAYMENTS[code], amount=amount, payment_no=i)
                    for i, (code, amount) in enumerate(sorted(paid.items()), start=1)
                ]
                if not payments:
                    return None
        except AppError:
            return None
        number, now = self.next()
        fields = build.reversal(
            original,
            self.terminal,
            new_type=new_type,
            transaction_no=number,
            receipt_no=number,
            now=now,
            staff=build.person(self.terminal.staff),
            payments=payments,
            event_id=str(uuid.uuid4()),
        )
        return self.rendered(fields)


def day_of_logs(tenant_id: str, carts: list[tuple[list, str, str]]) -> list[dict[str, Any]]:
    terminal = TerminalInfo(
        tenant_id=tenant_id,
        store_code=STORE,
        terminal_no=1,
        terminal_id=f"{tenant_id}-{STORE}-1",
        status="Opened",
        business_date=DAY,
        open_counter=1,
        business_counter=1,
        staff=Person(id="S001", name="Taro"),
    )
    till = Till(tenant_id, terminal)
    logs: list[TranlogDocument] = []
    for steps, end, reversal in carts:
        cart = ring_up(steps, end)
        if cart is None:
            continue
        sale = till.sale(cart)
        logs.append(sale)
        if sale.sales.get("is_cancelled") or reversal == "none":
            continue
        if reversal == "void":
            void = till.reverse(sale, VOID_SALE)
            logs += [void] if void else []
            continue
        returned = till.reverse(sale, RETURN)
        if returned is None:
            continue
        logs.append(returned)
        if reversal == "return+void":
            void = till.reverse(returned, VOID_RETURN)
            logs += [void] if void else []
    return [tran.payload() for tran in logs]


# ---- the plain recomputation -----------------------------------------------------------------


def _active(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in log["line_items"] if not line["is_cancelled"]]


def _counted(log: dict[str, Any]) -> bool:
    return not log["sales"]["is_cancelled"]


def _millionths(value: Any) -> int:
    return int(D(str(value)) * 10**6)


def moves_stock(log: dict[str, Any]) -> bool:
    return _counted(log) and any(line["quantity"] > 0 for line in _active(log))


def expected_stock(logs: list[dict[str, Any]]) -> dict[str, int]:
    units: Counter[str] = Counter()
    for log in logs:
        if not _counted(log):
            continue
        for line in _active(log):
            # A sale takes from stock, a return puts back (the report's sign, turned over).
            units[line["item_code"]] -= SIGN[log["transaction_type"]] * line["quantity"] * 10**4
        for line in _active(log):
            units.setdefault(line["item_code"], 0)
    return dict(units)


def expected_journal(logs: list[dict[str, Any]]) -> Counter[tuple[int, int]]:
    return Counter(
        (
            log["transaction_no"],
            -101 if log["sales"]["is_cancelled"] else log["transaction_type"],
        )
        for log in logs
    )


def expected_report(logs: list[dict[str, Any]]) -> dict[str, int]:
    want: Counter[str] = Counter()
    for log in logs:
        if not _counted(log):
            want["cancelled|n"] += 1
            continue
        t, f = log["transaction_type"], SIGN[log["transaction_type"]]
        want[f"t|{t}|n"] += 1
        want[f"t|{t}|a"] += _millionths(log["sales"]["total_amount_with_tax"])
        for payment in log["payments"]:
            want[f"pay|{payment['payment_code']}|a"] += f * _millionths(payment["amount"])
        for tax in log["taxes"]:
            want[f"tax|{tax['tax_code']}|a"] += f * _millionths(tax["tax_amount"])
        for line in _active(log):
            key = f"item|{line['category_code']}|{line['item_code']}|q"
            want[key] += f * line["quantity"]
    return dict(want)


# ---- the consumers ---------------------------------------------------------------------------


@dataclass
class Consumers:
    infra: dict[str, Infrastructure]
    consumer: dict[str, EventConsumer]
    prefix: str


@pytest.fixture(scope="module")
async def consumers(mongo_uri: str) -> AsyncIterator[Consumers]:
    """The journal's, report's, stock's and stored value's own consumers on the stack's
    MongoDB."""
    prefix = f"db_everylog{secrets.token_hex(3)}"
    settings = CommonSettings(environment="development", mongodb_uri=mongo_uri, timezone=TZ)
    infra = {
        name: build_infrastructure(settings, f"{prefix}_{name}")
        for name in ("journal", "report", "stock", "stored-value")
    }
    alerts = AlertService(
        infra["stock"].dapr, AlertHub(), state_store="statestore", cooldown_seconds=60
    )
    made = {
        "journal": JournalEvents().consumer,
        "report": ReportEvents(TZ).consumer,
        "stock": StockEvents(alerts).consumer,
        # These carts sell no gift card and take no card payment: every log is dropped.
        "stored-value": StoredValueEvents(max_balance=10**7).consumer,
    }
    for name, consumer in made.items():
        await consumer.start(infra[name])
    yield Consumers(infra, made, prefix)
    client = infra["journal"].mongo.client
    for name in await client.list_database_names():
        if name.startswith(prefix):
            await client.drop_database(name)
    for one in infra.values():
        await one.close()


def outcomes(c: Consumers, name: str) -> dict[str, float]:
    metrics = c.infra[name].metrics
    found: dict[str, float] = {}
    for family in metrics.registry.collect():
        if family.name == "kugelpos_events_consumed":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["outcome"]] = sample.value
    return found


ALL_KINDS = [
    ([], "cancel", "none"),  # a cart cancelled with no lines
    ([("add", 0, 1), ("add", 1, 2)], "cancel", "none"),  # a cancelled sale with lines
    ([("add", 0, 1), ("add", 2, 0), ("cancel_line", 0, 0)], "bill", "void"),  # cancelled line
    ([("add", 3, 2)], "bill", "none"),  # only a zero-priced line (promoted category)
    ([("add", 1, 0), ("line_disc", 0, 101)], "bill", "return"),  # fully discounted
    ([("add", 2, 1), ("add", 4, 0)], "bill", "return+void"),  # exempt and restricted lines
    ([("add", 5, 3), ("add", 0, 0), ("cart_disc", 0, 100), ("pay", 0, 50)], "bill", "void"),
    ([("add", 0, 1), ("add", 0, 1), ("cancel_line", 0, 0), ("cancel_line", 1, 0)], "bill", "none"),
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(carts=ALL_KINDS)
@given(carts=st.lists(cart_st, min_size=1, max_size=4))
async def test_every_consumer_handles_every_log_the_cart_produces(
    consumers: Consumers, carts: list[tuple[list, str, str]]
) -> None:
    tenant_id = "P" + secrets.token_hex(5)
    logs = day_of_logs(tenant_id, carts)
    before = {name: outcomes(consumers, name) for name in consumers.consumer}
    for payload in logs:
        moved = moves_stock(payload)
        for name, consumer in consumers.consumer.items():
            log_ = TransactionLog.model_validate(payload)
            applied = await consumer.apply(TOPIC_TRANLOG, log_, event_id=payload["event_id"])
            dropped = name == "stored-value" or (name == "stock" and not moved)
            want = Applied.DROPPED if dropped else Applied.NEW
            assert applied is want, (name, payload["transaction_type"], payload["sales"])
    # Every log delivered again (a redelivery, a republish): nothing changes.
    for payload in reversed(logs):
        for consumer in consumers.consumer.values():
            log_ = TransactionLog.model_validate(payload)
            again = await consumer.apply(TOPIC_TRANLOG, log_, event_id=payload["event_id"])
            assert again is Applied.DUPLICATE
    for name in consumers.consumer:
        counted = Counter(outcomes(consumers, name))
        counted.subtract(before[name])
        assert set(+counted) <= {"applied", "dropped", "duplicate"}, (name, counted)

    # Stock: every item moved by exactly the recomputed quantity.
    stock_db = consumers.infra["stock"].mongo.tenant_db(tenant_id)
    rows = await stock_db["stocks"].find({"tenant_id": tenant_id}, {"_id": False}).to_list()
    assert {r["item_code"]: r["current_units"] for r in rows} == expected_stock(logs)

    # Journal: one entry per log, of its journal type (a cancelled sale is -101).
    journal_db = consumers.infra["journal"].mongo.tenant_db(tenant_id)
    entries = await journal_db["journal"].find({"tenant_id": tenant_id}).to_list()
    assert Counter((e["transaction_no"], e["transaction_type"]) for e in entries) == (
        expected_journal(logs)
    )

    # Report: the day's counters as its reports read them.
    report_db = consumers.infra["report"].mongo.tenant_db(tenant_id)
    figures = await report_figures(report_db, tenant_id, Selection(STORE, DAY, DAY))
    want = expected_report(logs)
    got = {key: figures.get(key) for key in want}
    assert got == want
    for t in SIGN:  # types that did not occur count nothing
        if f"t|{t}|n" not in want:
            assert figures.get(f"t|{t}|n") == 0
