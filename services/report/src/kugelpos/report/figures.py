"""Every report is a pure function of summed *figures*; every log *contributes* figures.

A log's contribution is a flat map of integer counters (amounts in millionths, so sums are
exact integers in MongoDB and in Python alike) plus display names, keyed by the bucket it falls
in: (store, terminal, business date, open counter, hour of the app time zone). The stored
aggregate documents are sums of the contributions of their logs (maintained with `$inc` in the
transaction that stores each log, split by *family* as `aggregates` describes); a report sums
the few documents it selects. Because addition is all that happens between the logs and the
report, the report from the aggregates equals the report recomputed from the raw logs
(`figures_from_logs`).

Counter keys are `|`-separated paths, codes escaped (`escape`) so any code is a safe MongoDB
field name:

- `t|<type>|n|a|d|q|x`: per transaction type, count, Σ total_amount_with_tax,
  Σ total_discount_amount, Σ total_quantity, Σ taxes[].tax_amount (all tax types);
- `ld|a|q|c`, `sd|a|q|c`: line / subtotal discounts (amount, quantity of lines with one, entries),
  signed by the transaction type;
- `tax|<code>|a|t|q`: signed tax amount, target amount, target quantity;
- `pay|<code>|a|e|x`: signed amount, payment entries, distinct transactions;
- `cat|<cat>|…`, `item|<cat>|<item>|…`, `promo|<code>|<type>|…`: gross (unit price × quantity),
  discount, quantity, discount quantity, distinct transactions, over non-cancelled lines;
- `cash|in|a|n`, `cash|out|a|n`, `cash|phys|a`; `cancelled|n` (cancelled sales, not in figures);
- `sv|sold|a|n`, `sv|redeemed|a|n`, `sv|credited|a|n` (issue 26): gift cards sold (lines with
  `is_stored_value`), paid by card (payments with a `hold_id`), refunded onto store credit
  (payments with a `card_load_id`): amount and count, less their voids;
- `rr|<reason>|n|a|q|b`: returns by reason (issue 25; `additional_info.return_reason_code`,
  empty for none): count, Σ total_amount_with_tax, Σ total_quantity, blind returns among them;
  a return adds, the void of a return takes away.

A key's *family* (`family`) is its first part for `cat`, `item` and `promo`, `core` for all the
others: a report type reads only the families it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SCALE = 10**6  # counters hold amounts in millionths of the currency unit
_QUANTUM = Decimal(1) / SCALE

TOPIC_TRAN = "tran"
TOPIC_CASH = "cash"
TOPIC_OPENCLOSE = "openclose"

SALE, RETURN, VOID_SALE, VOID_RETURN = 101, 102, 201, 202
TYPES = (SALE, RETURN, VOID_SALE, VOID_RETURN)

# Counter families. Category, item and promotion counters grow with the variety of the day
# (one set per code), the core ones (sales, discount, tax, payment, cash) stay a few dozen.
CORE, CATEGORY, ITEM, PROMOTION = "core", "cat", "item", "promo"
FAMILIES = (CORE, CATEGORY, ITEM, PROMOTION)
_BY_CODE = frozenset((CATEGORY, ITEM, PROMOTION))


def family(key: str) -> str:
    """The family of a counter or name key (`item|…` → item, `tax|…` → core)."""
    head = key.partition("|")[0]
    return head if head in _BY_CODE else CORE


def sign(transaction_type: int) -> int:
    """+1 sale and void of a return, −1 return and void of a sale (§3.6)."""
    return 1 if transaction_type in (SALE, VOID_RETURN) else -1 if transaction_type in TYPES else 0


def escape(code: Any) -> str:
    text = "" if code is None else str(code)
    return text.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("|", "%7C")


def unescape(text: str) -> str:
    return text.replace("%7C", "|").replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def dec(value: Any) -> Decimal:
    """A JSON number (or null, or text) as Decimal; null and junk count 0."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def units(value: Any) -> int:
    """Decimal amount → integer millionths (banker's rounding beyond six decimals)."""
    return int((dec(value) / _QUANTUM).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def amount(counter: int) -> Decimal:
    return Decimal(counter) / SCALE


def qty(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True, slots=True, order=True)
class Bucket:
    store_code: str
    terminal_no: int
    business_date: str
    open_counter: int
    hour: int


@dataclass
class Contribution:
    bucket: Bucket
    counters: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, value: int) -> None:
        if value:
            self.counters[key] = self.counters.get(key, 0) + value

    def merge(self, other: Contribution) -> None:
        """Add another contribution's counters (a name already known stays)."""
        for key, value in other.counters.items():
            self.add(key, value)
        for key, name in other.names.items():
            self.names.setdefault(key, name)

    def by_family(self) -> dict[str, Contribution]:
        """The contribution cut by family (families without counters or names left out)."""
        parts: dict[str, Contribution] = {}
        for key, value in self.counters.items():
            part = parts.setdefault(family(key), Contribution(self.bucket))
            part.counters[key] = value
        for key, name in self.names.items():
            part = parts.setdefault(family(key), Contribution(self.bucket))
            part.names[key] = name
        return parts


def hour_of(generate_date_time: Any, tz: ZoneInfo) -> int:
    try:
        moment = datetime.fromisoformat(str(generate_date_time))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(tz).hour


def _bucket(log: Mapping[str, Any], tz: ZoneInfo) -> Bucket:
    return Bucket(
        str(log["store_code"]),
        int(log["terminal_no"]),
        str(log["business_date"]),
        int(log.get("open_counter") or 0),
        hour_of(log.get("generate_date_time"), tz),
    )


def _lines(log: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [line for line in log.get("line_items") or [] if not line.get("is_cancelled")]


def contribute(topic: str, log: Mapping[str, Any], tz: ZoneInfo) -> Contribution:
    """The figures one raw log adds to its bucket (pure)."""
    c = Contribution(_bucket(log, tz))
    if topic == TOPIC_CASH:
        value = units(log.get("amount"))
        if value > 0:
            c.add("cash|in|a", value)
            c.add("cash|in|n", 1)
        elif value < 0:
            c.add("cash|out|a", value)
            c.add("cash|out|n", 1)
        return c
    if topic == TOPIC_OPENCLOSE:
        if log.get("operation") == "close":
            info = log.get("terminal_info") or {}
            c.add("cash|phys|a", units(info.get("physical_amount")))
        return c
    sales = log.get("sales") or {}
    t = int(log.get("transaction_type") or 0)
    f = sign(t)
    if sales.get("is_cancelled"):
        c.add("cancelled|n", 1)
        return c
    if f == 0:
        return c
    _transaction(c, log, sales, t, f)
    return c


def _transaction(c: Contribution, log: Mapping[str, Any], sales: Mapping, t: int, f: int) -> None:
    c.add(f"t|{t}|n", 1)
    c.add(f"t|{t}|a", units(sales.get("total_amount_with_tax")))
    c.add(f"t|{t}|d", units(sales.get("total_discount_amount")))
    c.add(f"t|{t}|q", qty(sales.get("total_quantity")))
    taxes = log.get("taxes") or []
    c.add(f"t|{t}|x", sum(units(tax.get("tax_amount")) for tax in taxes))
    for tax in taxes:
        if tax.get("tax_code") is None:
            continue
        code = escape(tax["tax_code"])
        c.add(f"tax|{code}|a", f * units(tax.get("tax_amount")))
        c.add(f"tax|{code}|t", f * units(tax.get("target_amount")))
        c.add(f"tax|{code}|q", f * qty(tax.get("target_quantity")))
        if tax.get("tax_name"):
            c.names.setdefault(f"tax|{code}", str(tax["tax_name"]))
    paid: set[str] = set()
    for payment in log.get("payments") or []:
        if payment.get("payment_code") is None:
            continue
        code = escape(payment["payment_code"])
        c.add(f"pay|{code}|a", f * units(payment.get("amount")))
        c.add(f"pay|{code}|e", f)
        paid.add(code)
        if payment.get("description"):
            c.names.setdefault(f"pay|{code}", str(payment["description"]))
    for code in paid:
        c.add(f"pay|{code}|x", f)
    _stored_value(c, log, t)
    c.add("sd|c", f * len(log.get("subtotal_discounts") or []))
    c.add(
        "sd|a",
        f * sum(units(d.get("discount_amount")) for d in log.get("subtotal_discounts") or []),
    )
    categories: set[str] = set()
    items: set[str] = set()
    promotions: set[str] = set()
    for line in _lines(log):
        quantity = qty(line.get("quantity"))
        own = line.get("discounts") or []
        allocated = line.get("discounts_allocated") or []
        own_sum = sum(units(d.get("discount_amount")) for d in own)
        allocated_sum = sum(units(d.get("discount_amount")) for d in allocated)
        if own:
            c.add("ld|a", f * own_sum)
            c.add("ld|q", f * quantity)
            c.add("ld|c", f * len(own))
        if allocated:
            c.add("sd|q", f * quantity)
        gross = units(dec(line.get("unit_price")) * quantity)
        discount = own_sum + allocated_sum
        discounted = quantity if (own_sum > 0 or allocated_sum > 0) else 0
        cat = escape(line.get("category_code"))
        item = f"{cat}|{escape(line.get('item_code'))}"
        for prefix in (f"cat|{cat}", f"item|{item}"):
            c.add(f"{prefix}|g", f * gross)
            c.add(f"{prefix}|d", f * discount)
            c.add(f"{prefix}|q", f * quantity)
            c.add(f"{prefix}|dq", f * discounted)
        categories.add(cat)
        items.add(item)
        description = line.get("description")
        if description:
            c.names.setdefault(f"item|{escape(line.get('item_code'))}", str(description))
        for d in own:
            if d.get("promotion_code") is None:
                continue
            promo = f"{escape(d['promotion_code'])}|{escape(d.get('promotion_type'))}"
            c.add(f"promo|{promo}|g", f * gross)
            c.add(f"promo|{promo}|d", f * units(d.get("discount_amount")))
            c.add(f"promo|{promo}|q", f * quantity)
            promotions.add(promo)
    if t in (RETURN, VOID_RETURN):
        _by_reason(c, log, sales, 1 if t == RETURN else -1)
    for cat in categories:
        c.add(f"cat|{cat}|x", f)
    for item in items:
        c.add(f"item|{item}|x", f)
    for promo in promotions:
        c.add(f"promo|{promo}|x", f)


def _stored_value(c: Contribution, log: Mapping[str, Any], t: int) -> None:
    """Gift cards sold, paid with and refunded onto (a void takes its sale's or return's back)."""
    g = -1 if t in (VOID_SALE, VOID_RETURN) else 1
    for line in _lines(log):
        if line.get("is_stored_value"):
            c.add("sv|sold|a", g * units(line.get("amount")))
            c.add("sv|sold|n", g)
    for payment in log.get("payments") or []:
        kind = "redeemed" if payment.get("hold_id") else None
        kind = "credited" if payment.get("card_load_id") else kind
        if kind is not None:
            c.add(f"sv|{kind}|a", g * units(payment.get("amount")))
            c.add(f"sv|{kind}|n", g)


def _by_reason(c: Contribution, log: Mapping[str, Any], sales: Mapping, g: int) -> None:
    info = log.get("additional_info")
    reason = info.get("return_reason_code") if isinstance(info, Mapping) else None
    key = f"rr|{escape(reason)}"
    c.add(f"{key}|n", g)
    c.add(f"{key}|a", g * units(sales.get("total_amount_with_tax")))
    c.add(f"{key}|q", g * qty(sales.get("total_quantity")))
    if log.get("blind"):
        c.add(f"{key}|b", g)


# ---- summing --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Summed counters of some buckets, plus names (and per-hour figures for the hourly report)."""

    counters: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    hours: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(
        self, counters: Mapping[str, int], names: Mapping[str, str], hour: int | None = None
    ) -> None:
        """Add one document's figures; `hour` None: figures of several hours (a session's)."""
        per_hour = self.hours.setdefault(hour, {}) if hour is not None else None
        # A counter at zero counts too: a document keeps a field its logs summed to zero (a
        # sale and its void), and the report lists that code with zeros, as from the raw logs,
        # whichever documents the logs were summed in.
        for key, value in counters.items():
            self.counters[key] = self.counters.get(key, 0) + value
            if per_hour is not None:
                per_hour[key] = per_hour.get(key, 0) + value
        for key, name in names.items():
            self.names.setdefault(key, name)

    def get(self, key: str) -> int:
        return self.counters.get(key, 0)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which buckets a report reads (§3.6)."""

    store_code: str
    date_from: str
    date_to: str
    terminal_no: int | None = None
    open_counter: int | None = None

    def matches(self, bucket: Bucket) -> bool:
        return (
            bucket.store_code == self.store_code
            and self.date_from <= bucket.business_date <= self.date_to
            and (self.terminal_no is None or bucket.terminal_no == self.terminal_no)
            and (self.open_counter is None or bucket.open_counter == self.open_counter)
        )


def figures_from_logs(
    logs: Iterable[tuple[str, Mapping[str, Any]]], selection: Selection, tz: ZoneInfo
) -> Figures:
    """The reference computation: straight from raw logs (topic, log), no aggregates.
    Duplicate logs (same natural key) count once, as the unique indexes make them."""
    figures = Figures()
    seen: set[tuple] = set()
    for topic, log in logs:
        key = natural_key(topic, log)
        if key in seen:
            continue
        seen.add(key)
        contribution = contribute(topic, log, tz)
        if selection.matches(contribution.bucket):
            figures.add(contribution.counters, contribution.names, contribution.bucket.hour)
    return figures


def natural_key(topic: str, log: Mapping[str, Any]) -> tuple:
    base = (topic, log.get("store_code"), log.get("terminal_no"))
    if topic == TOPIC_TRAN:
        return (*base, log.get("transaction_no"))
    session = (*base, log.get("business_date"), log.get("open_counter"))
    if topic == TOPIC_CASH:
        return (*session, log.get("generate_date_time"))
    return (*session, log.get("operation"))
