"""Is an offline sale internally consistent? Pure checks, in the style of `pricing`: the
sale's own figures against the cart's own arithmetic, exactly (no tolerance).

1. each line: `amount = unit price * quantity - its line discounts`, and a percentage
   discount's amount is its percentage, per unit as the cart computes it
   (`pricing.lines.percentage_discount_amount`) rounded down or up (the discount rounding rule
   is the cart's setting, which the feed does not carry: either is taken);
2. subtotal discounts: a percentage one is its percentage of the discountable amount, rounded
   down or up (capped by what is left, as the cart caps it); allocated over the discountable
   lines, each discount's shares summing to it, no line given more than its amount (the shares
   the sale sends, or, when it sends none, the cart's own largest-remainder allocation);
3. taxes: the cart's own tax engine (`pricing.tax.compute_taxes`) over those lines with the
   tenant's tax master must give exactly the sale's taxes (code, type, target, quantity, tax);
4. totals: `pricing.totals.compute_totals` must give the sale's total with tax (and `totalAmount`,
   which v1 repeats), external tax, quantity and discount total;
5. payments: they pay the total exactly, each tender's deposit is at least what it pays, the
   deposits sum to `depositAmount` and `changeAmount` is what was handed back.

A price that differs from the master data is never a reason: see `price_differences`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..domain.masters import TaxMaster
from ..domain.models import Cart, Discount, DiscountType, LineItem, Payment, Person, Tax
from ..errors import CartErrorCode
from ..pricing.lines import HUNDRED, percentage_discount_amount
from ..pricing.money import ZERO, RoundMethod, normalize
from ..pricing.subtotal_discounts import allocate, is_discountable, requested_amount
from ..pricing.tax import compute_taxes
from ..pricing.totals import compute_payment_totals, compute_totals
from .documents import OfflineBlockDocument
from .schemas import OfflineDiscount, OfflineSale


@dataclass(frozen=True, slots=True)
class Rejection(Exception):
    code: str
    message: str


LINE_AMOUNT = CartErrorCode.OFFLINE_LINE_AMOUNT
SUBTOTAL_DISCOUNT = CartErrorCode.OFFLINE_SUBTOTAL_DISCOUNT
TAX = CartErrorCode.OFFLINE_TAX
TOTAL = CartErrorCode.OFFLINE_TOTAL
PAYMENT = CartErrorCode.OFFLINE_PAYMENT
NUMBER_OUTSIDE_BLOCK = CartErrorCode.OFFLINE_NUMBER_OUTSIDE_BLOCK
NUMBER_USED = CartErrorCode.OFFLINE_NUMBER_USED
UNKNOWN_SESSION = CartErrorCode.OFFLINE_UNKNOWN_SESSION
MALFORMED = CartErrorCode.OFFLINE_MALFORMED
STORED_VALUE = CartErrorCode.OFFLINE_STORED_VALUE


def _n(value: Decimal) -> str:
    return str(normalize(value))


def _discount(d: OfflineDiscount, amount: Decimal | None = None) -> Discount:
    return Discount(
        seq_no=d.seq_no,
        discount_type=DiscountType(d.discount_type),
        discount_value=d.discount_value,
        discount_amount=d.discount_amount if amount is None else amount,
        discount_detail=d.discount_detail,
        promotion_code=d.promotion_code,
        promotion_type=d.promotion_type,
    )


def _lines(sale: OfflineSale, tax_codes: Mapping[str, str]) -> list[LineItem]:
    lines = []
    for line in sale.line_items:
        tax_code = line.tax_code or tax_codes.get(line.item_code)
        if not tax_code:
            raise Rejection(TAX, f"line {line.line_no}: no tax code (none sent, item unknown)")
        if not line.is_cancelled:
            discounts = sum((d.discount_amount for d in line.discounts), ZERO)
            expected = line.unit_price * line.quantity - discounts
            if any(d.discount_amount < 0 for d in line.discounts) or line.amount != expected:
                raise Rejection(
                    LINE_AMOUNT,
                    f"line {line.line_no}: amount {_n(line.amount)} is not "
                    f"{_n(line.unit_price)} x {line.quantity} - {_n(discounts)} = {_n(expected)}",
                )
            _line_percentages(
                line.line_no, line.unit_price * line.quantity, line.quantity, line.discounts
            )
            if line.amount < 0:
                raise Rejection(LINE_AMOUNT, f"line {line.line_no}: amount below zero")
        lines.append(
            LineItem(
                line_no=line.line_no,
                item_code=line.item_code,
                item_name=line.item_name,
                category_code=line.category_code,
                tax_code=tax_code,
                unit_price=line.unit_price,
                unit_price_original=line.unit_price_original,
                is_unit_price_changed=line.is_unit_price_changed,
                quantity=line.quantity,
                amount=line.amount,
                discounts=tuple(_discount(d) for d in line.discounts),
                is_cancelled=line.is_cancelled,
                is_discount_restricted=line.is_discount_restricted,
            )
        )
    if len({line.line_no for line in lines}) != len(lines):
        raise Rejection(MALFORMED, "two lines have the same lineNo")
    return lines


# The discount rounding rule is the cart's own setting (Round, Floor or Ceil), which the feed
# does not carry: a percentage rounded down or up is taken.
_EITHER_WAY = (RoundMethod.FLOOR, RoundMethod.CEIL)


def _line_percentages(
    line_no: int, gross: Decimal, quantity: int, discounts: Sequence[OfflineDiscount]
) -> None:
    """Each percentage discount of a line, as `pricing.lines.compute_line` makes it: per unit,
    of what the earlier percentages left, times the quantity."""
    taken = ZERO
    for d in discounts:
        if d.discount_type != DiscountType.PERCENTAGE.value:
            continue
        target = (gross - taken) / quantity
        allowed = {
            percentage_discount_amount(target, quantity, d.discount_value, method)
            for method in _EITHER_WAY
        }
        if not ZERO <= d.discount_value <= HUNDRED or d.discount_amount not in allowed:
            raise Rejection(
                LINE_AMOUNT,
                f"line {line_no}: a {_n(d.discount_value)} % discount of "
                f"{_n(d.discount_amount)}, the percentage gives "
                f"{' or '.join(_n(a) for a in sorted(allowed))}",
            )
        taken += d.discount_amount


def _subtotal_percentages(subtotal: Sequence[Discount], base: Decimal) -> None:
    """Each percentage subtotal discount, as `pricing.subtotal_discounts` makes it: of the whole
    discountable amount (they do not compound), capped by what the earlier ones left."""
    remaining = base
    for d in subtotal:
        if d.discount_type is DiscountType.PERCENTAGE:
            allowed = {min(requested_amount(d, base, m), remaining) for m in _EITHER_WAY}
            if not ZERO <= d.discount_value <= HUNDRED or d.discount_amount not in allowed:
                raise Rejection(
                    SUBTOTAL_DISCOUNT,
                    f"a {_n(d.discount_value)} % subtotal discount of {_n(d.discount_amount)}, "
                    f"the percentage of {_n(base)} gives "
                    f"{' or '.join(_n(a) for a in sorted(allowed))}",
                )
        remaining -= d.discount_amount


def _allocated(sale: OfflineSale, lines: list[LineItem]) -> tuple[list[LineItem], list[Discount]]:
    """Lines with their subtotal-discount shares, checked (step 2)."""
    subtotal = [_discount(d) for d in sale.subtotal_discounts]
    sent = {line.line_no: line.discounts_allocated for line in sale.line_items}
    shares_sent = any(v is not None for v in sent.values())
    if len({d.seq_no for d in subtotal}) != len(subtotal):
        if shares_sent:
            raise Rejection(SUBTOTAL_DISCOUNT, "two subtotal discounts have the same seqNo")
        # v1's `Tran` has no seqNo: number them in order.
        subtotal = [d.model_copy(update={"seq_no": i}) for i, d in enumerate(subtotal, 1)]
    if any(d.discount_amount < 0 for d in subtotal):
        raise Rejection(SUBTOTAL_DISCOUNT, "a subtotal discount below zero")
    eligible = [line for line in lines if is_discountable(line)]
    base = sum((line.amount for line in eligible), ZERO)
    wanted = sum((d.discount_amount for d in subtotal), ZERO)
    if wanted > base:
        raise Rejection(
            SUBTOTAL_DISCOUNT,
            f"subtotal discounts {_n(wanted)} exceed the discountable amount {_n(base)}",
        )
    _subtotal_percentages(subtotal, base)
    if shares_sent:
        shares = _sent_shares(subtotal, lines, sent)
    else:
        capacities = {line.line_no: line.amount for line in eligible}
        shares = {line.line_no: [] for line in eligible}
        for d in subtotal:
            for line_no, share in allocate(d.discount_amount, eligible, capacities).items():
                capacities[line_no] -= share
                shares[line_no].append(d.model_copy(update={"discount_amount": share}))
    result = [
        line.model_copy(update={"discounts_allocated": tuple(shares[line.line_no])})
        if line.line_no in shares
        else line
        for line in lines
    ]
    return result, subtotal


def _sent_shares(
    subtotal: list[Discount],
    lines: list[LineItem],
    sent: Mapping[int, list[OfflineDiscount] | None],
) -> dict[int, list[Discount]]:
    by_line = {line.line_no: line for line in lines}
    totals = {d.seq_no: ZERO for d in subtotal}
    shares: dict[int, list[Discount]] = {}
    for line_no, entries in sent.items():
        if not entries:
            continue
        line = by_line[line_no]
        if not is_discountable(line):
            raise Rejection(SUBTOTAL_DISCOUNT, f"line {line_no} may not take a subtotal discount")
        taken = ZERO
        for entry in entries:
            if entry.seq_no not in totals or entry.discount_amount < 0:
                raise Rejection(
                    SUBTOTAL_DISCOUNT, f"line {line_no}: a share of no subtotal discount"
                )
            totals[entry.seq_no] += entry.discount_amount
            taken += entry.discount_amount
        if taken > line.amount:
            raise Rejection(SUBTOTAL_DISCOUNT, f"line {line_no}: shares exceed its amount")
        shares[line_no] = [_discount(e) for e in entries]
    for d in subtotal:
        if totals[d.seq_no] != d.discount_amount:
            raise Rejection(
                SUBTOTAL_DISCOUNT,
                f"subtotal discount {d.seq_no}: shares {_n(totals[d.seq_no])} "
                f"are not its amount {_n(d.discount_amount)}",
            )
    return shares


def _taxes(sale: OfflineSale, lines: Sequence[LineItem], master: Mapping[str, TaxMaster]):
    missing = {line.tax_code for line in lines if not line.is_cancelled} - set(master)
    if missing:
        raise Rejection(TAX, f"tax code(s) {sorted(missing)} not in the tax master")
    computed = compute_taxes(lines, master)
    ours = {t.tax_code: t for t in computed}
    theirs = {t.tax_code: t for t in sale.taxes}
    if len(theirs) != len(sale.taxes) or set(ours) != set(theirs):
        raise Rejection(TAX, f"taxes of codes {sorted(theirs)}, the tax rules give {sorted(ours)}")
    for code, tax in ours.items():
        got = theirs[code]
        if (
            got.tax_amount != tax.tax_amount
            or got.target_amount != tax.target_amount
            or got.target_quantity != tax.target_quantity
            or got.tax_type != tax.tax_type.value
        ):
            raise Rejection(
                TAX,
                f"tax {code}: {_n(got.tax_amount)} on {_n(got.target_amount)}, the tax rules "
                f"give {_n(tax.tax_amount)} on {_n(tax.target_amount)}",
            )
    return computed


def _payments(sale: OfflineSale) -> list[Payment]:
    payments = []
    for p in sale.payments:
        deposit = p.payment_amount if p.deposit_amount is None else p.deposit_amount
        if p.payment_amount < 0 or deposit < p.payment_amount:
            raise Rejection(
                PAYMENT, f"payment {p.payment_no}: deposit {_n(deposit)} below its amount"
            )
        payments.append(
            Payment(
                payment_no=p.payment_no,
                payment_code=p.payment_code,
                payment_name=p.payment_name,
                payment_amount=p.payment_amount,
                deposit_amount=deposit,
                change_amount=deposit - p.payment_amount,
                payment_detail=p.payment_detail,
            )
        )
    return payments


def check_sale(
    sale: OfflineSale, tax_master: Mapping[str, TaxMaster], tax_codes: Mapping[str, str]
) -> Cart:
    """The sale as the cart's own priced cart (for its log), or `Rejection` with the first
    failed check. `tax_codes`: item code -> tax code, for lines that send none."""
    lines, subtotal = _allocated(sale, _lines(sale, tax_codes))
    taxes: Sequence[Tax] = _taxes(sale, lines, tax_master)
    totals = compute_totals(lines, taxes, subtotal)
    with_tax = totals.total_amount_with_tax
    if sale.total_amount_with_tax != with_tax or sale.total_amount not in (
        with_tax,
        totals.total_amount,
    ):
        raise Rejection(
            TOTAL,
            f"total with tax {_n(sale.total_amount_with_tax)}, the lines, discounts and taxes "
            f"give {_n(with_tax)}",
        )
    if sale.tax_amount is not None and sale.tax_amount != totals.tax_amount:
        raise Rejection(TOTAL, f"tax amount {_n(sale.tax_amount)}, not {_n(totals.tax_amount)}")
    if sale.total_quantity != totals.total_quantity:
        raise Rejection(TOTAL, f"total quantity {sale.total_quantity}, not {totals.total_quantity}")
    if sale.total_discount_amount != totals.total_discount_amount:
        raise Rejection(
            TOTAL,
            f"total discount {_n(sale.total_discount_amount)}, "
            f"not {_n(totals.total_discount_amount)}",
        )
    payments = _payments(sale)
    paid = compute_payment_totals(with_tax, payments)
    if paid.balance_amount != 0:
        raise Rejection(
            PAYMENT, f"payments {_n(paid.paid_amount)} do not pay the total {_n(with_tax)}"
        )
    if sale.deposit_amount != paid.deposit_amount or sale.change_amount != paid.change_amount:
        raise Rejection(
            PAYMENT,
            f"deposit {_n(sale.deposit_amount)} / change {_n(sale.change_amount)}: the tenders "
            f"give {_n(paid.deposit_amount)} / {_n(paid.change_amount)}",
        )
    return Cart(
        cart_id=f"offline:{sale.offline_id}",
        business_date=sale.business_date,
        staff=Person(id=sale.staff.id, name=sale.staff.name) if sale.staff else None,
        line_items=tuple(lines),
        payments=tuple(payments),
        taxes=tuple(taxes),
        subtotal_discounts=tuple(subtotal),
        subtotal_amount=totals.subtotal_amount,
        total_amount=totals.total_amount,
        tax_amount=totals.tax_amount,
        total_amount_with_tax=with_tax,
        total_quantity=totals.total_quantity,
        total_discount_amount=totals.total_discount_amount,
        deposit_amount=paid.deposit_amount,
        change_amount=paid.change_amount,
    )


def block_of(sale: OfflineSale, blocks: Iterable[OfflineBlockDocument]) -> OfflineBlockDocument:
    """The ONE block of this terminal holding both of the sale's numbers."""
    for block in blocks:
        if block.holds(sale.transaction_no, sale.receipt_no):
            return block
    raise Rejection(
        NUMBER_OUTSIDE_BLOCK,
        f"transactionNo {sale.transaction_no} / receiptNo {sale.receipt_no} are not both in "
        "one block reserved by this terminal",
    )


def check_unused(
    sale: OfflineSale,
    block: OfflineBlockDocument,
    used_transactions: set[int],
    used_receipts: set[tuple[str, int]],
) -> None:
    """Neither number taken already (by a recorded sale, or earlier in the same batch)."""
    if sale.transaction_no in used_transactions:
        raise Rejection(NUMBER_USED, f"transactionNo {sale.transaction_no} is used already")
    if (block.block_id, sale.receipt_no) in used_receipts:
        raise Rejection(NUMBER_USED, f"receiptNo {sale.receipt_no} is used already")


def check_no_card(
    sale: OfflineSale, card_codes: Collection[str], card_items: Collection[str]
) -> None:
    """Gift cards and store credit live on the server: paying with one places a hold on its
    balance, selling one loads it. Neither can be done offline, so a sale that did either
    would be recorded with no card behind it (a card spent twice, a card sold but never
    loaded). `card_codes`: the payment codes that draw on a card; `card_items`: the items
    that were card loads at the sale's time."""
    for p in sale.payments:
        if p.payment_code in card_codes:
            raise Rejection(
                STORED_VALUE,
                f"payment {p.payment_no}: {p.payment_code} draws on a gift card or store "
                "credit, which cannot be charged offline",
            )
    for line in sale.line_items:
        if not line.is_cancelled and (line.is_stored_value or line.item_code in card_items):
            raise Rejection(
                STORED_VALUE,
                f"line {line.line_no}: {line.item_code} loads a gift card or store credit, "
                "which cannot be sold offline",
            )


def check_session(sale: OfflineSale, sessions: Collection[tuple[str, int]]) -> None:
    if (sale.business_date, sale.open_counter) not in sessions:
        raise Rejection(
            UNKNOWN_SESSION,
            f"this terminal had no session {sale.business_date} #{sale.open_counter}",
        )


@dataclass(frozen=True, slots=True)
class PriceDifference:
    line_no: int
    item_code: str
    sold_price: Decimal
    master_price: Decimal | None


def price_differences(
    sale: OfflineSale, prices: Mapping[str, Decimal | None]
) -> list[PriceDifference]:
    """Lines sold at another unit price than the master data's at the sale's time (None: the
    item is not in the master data). Recorded, never a reason to reject."""
    found = []
    for line in sale.line_items:
        if line.is_cancelled:
            continue
        master = prices.get(line.item_code)
        if master is None or master != line.unit_price:
            found.append(PriceDifference(line.line_no, line.item_code, line.unit_price, master))
    return found
