"""What a (partial) return of a sale refunds, per line and per tax code (issue 25). Pure.

A returned unit refunds what it cost the customer: its share of the line's amount after line
discounts and promotions, minus its share of the subtotal discounts allocated to the line,
plus its share of the external tax of its tax code. Every share is *cumulative*: the value
refunded once `k` of a line's `Q` units are back is `floor(value * k / Q)` at the currency's
precision, and exactly `value` when `k = Q`; a return refunds the difference between the
cumulative value after it and before it. So however a sale is split into returns, and in
whatever order, the returns add up to the sale exactly (the last unit takes the rounding
remainder), a return never refunds more than its units' proportional share, and a return
depends only on the quantities returned before it (nothing else is stored).

Taxes follow the same rule per tax code, on the returned target: the tax refunded once a
code's returned target is `N` of the sale's target `S` is `floor(T * N / S)`, and exactly `T`
once every unit of that code is back. Only external tax is added to the refund (internal tax
is inside the amount, exempt is none), as the sale's `total_amount_with_tax` did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from kugelpos.common.taxes import TaxType

from .money import ZERO, floor_money, to_decimal


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A sale's line as the return rules need it."""

    line_no: int
    quantity: int
    tax_code: str
    amount: Decimal  # after line discounts and promotions, before subtotal discounts
    discounts: tuple[Decimal, ...] = ()  # line discount amounts (for the totals shown)
    allocations: tuple[Decimal, ...] = ()  # subtotal discounts allocated to the line
    is_cancelled: bool = False
    # A card sold: never returned (its money is on the card; the sale is voided instead), in
    # no tax group.
    is_stored_value: bool = False

    @property
    def returnable(self) -> bool:
        return not (self.is_cancelled or self.is_stored_value)

    @property
    def net(self) -> Decimal:
        """What the customer paid for the whole line, before external tax."""
        return self.amount - sum(self.allocations, ZERO)


@dataclass(frozen=True, slots=True)
class SoldTax:
    tax_code: str
    tax_type: TaxType
    tax_amount: Decimal
    target_amount: Decimal


@dataclass(frozen=True, slots=True)
class ReturnedLine:
    line_no: int
    tax_code: str
    quantity: int
    amount: Decimal  # the returned part of the line's amount (after line discounts)
    discounts: tuple[Decimal, ...]
    allocations: tuple[Decimal, ...]
    # What the customer gets back for the line: its net plus its part of the external tax
    # refunded for its tax code, so that the lines add up to the total with tax.
    refund: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.amount - sum(self.allocations, ZERO)


@dataclass(frozen=True, slots=True)
class ReturnedTax:
    tax_code: str
    tax_type: TaxType
    tax_amount: Decimal
    target_amount: Decimal
    target_quantity: int


@dataclass(frozen=True, slots=True)
class ReturnShare:
    lines: tuple[ReturnedLine, ...]
    taxes: tuple[ReturnedTax, ...]

    @property
    def total_amount(self) -> Decimal:
        """Net of every discount, before external tax (the sale's `total_amount`)."""
        return sum((line.net for line in self.lines), ZERO)

    @property
    def tax_amount(self) -> Decimal:
        return sum((t.tax_amount for t in self.taxes if t.tax_type is TaxType.EXTERNAL), ZERO)

    @property
    def total_amount_with_tax(self) -> Decimal:
        return self.total_amount + self.tax_amount

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_discount_amount(self) -> Decimal:
        return sum(
            (sum(line.discounts, ZERO) + sum(line.allocations, ZERO) for line in self.lines), ZERO
        )


def share(value: Decimal, returned: int, quantity: int, digits: int) -> Decimal:
    """The cumulative part of `value` refunded once `returned` of `quantity` units are back."""
    if returned >= quantity:
        return value
    if returned <= 0:
        return ZERO
    return floor_money(value * returned / quantity, digits)


def _piece(value: Decimal, before: int, now: int, quantity: int, digits: int) -> Decimal:
    return share(value, before + now, quantity, digits) - share(value, before, quantity, digits)


def _net_share(line: SoldLine, returned: int, digits: int) -> Decimal:
    return share(line.net, returned, line.quantity, digits)


def allocate_return(
    lines: Iterable[SoldLine],
    taxes: Iterable[SoldTax],
    returned_before: Mapping[int, int],
    returning: Mapping[int, int],
    digits: int,
) -> ReturnShare:
    """The lines and taxes of a return of `returning` (line number → units) from a sale of
    which `returned_before` were already returned. The caller checks the quantities
    (`remaining`); lines not in `returning` are not part of the return."""
    sold = list(lines)
    result: list[ReturnedLine] = []
    for line in sold:
        now = returning.get(line.line_no, 0)
        if now <= 0 or not line.returnable:
            continue
        before = returned_before.get(line.line_no, 0)
        q = line.quantity
        # The net and the allocations are shared on their own (each monotone), and the amount
        # is their sum, so no piece is ever negative.
        allocations = tuple(_piece(a, before, now, q, digits) for a in line.allocations)
        net = _piece(line.net, before, now, q, digits)
        result.append(
            ReturnedLine(
                line_no=line.line_no,
                tax_code=line.tax_code,
                quantity=now,
                amount=net + sum(allocations, ZERO),
                discounts=tuple(_piece(d, before, now, q, digits) for d in line.discounts),
                allocations=allocations,
            )
        )
    after = {
        line.line_no: returned_before.get(line.line_no, 0) + returning.get(line.line_no, 0)
        for line in sold
    }
    returned_taxes: list[ReturnedTax] = []
    for tax in taxes:
        group = [line for line in sold if line.tax_code == tax.tax_code and line.returnable]
        now_qty = sum(returning.get(line.line_no, 0) for line in group)
        if now_qty <= 0:
            continue
        target_before = sum(
            (_net_share(line, returned_before.get(line.line_no, 0), digits) for line in group),
            ZERO,
        )
        target_after = sum((_net_share(line, after[line.line_no], digits) for line in group), ZERO)
        all_back = all(after[line.line_no] >= line.quantity for line in group)
        tax_after = _tax_share(tax, target_after, all_back, digits)
        tax_before = _tax_share(tax, target_before, False, digits)
        returned_taxes.append(
            ReturnedTax(
                tax_code=tax.tax_code,
                tax_type=tax.tax_type,
                tax_amount=tax_after - tax_before,
                target_amount=target_after - target_before,
                target_quantity=now_qty,
            )
        )
    external = {t.tax_code: t.tax_amount for t in returned_taxes if t.tax_type is TaxType.EXTERNAL}
    return ReturnShare(lines=_with_refunds(result, external, digits), taxes=tuple(returned_taxes))


def _with_refunds(
    lines: list[ReturnedLine], external: Mapping[str, Decimal], digits: int
) -> tuple[ReturnedLine, ...]:
    """Each code's external tax over its returned lines in proportion to their net (floor),
    the code's last line taking the remainder."""
    out: list[ReturnedLine] = []
    for code in dict.fromkeys(line.tax_code for line in lines):
        group = [line for line in lines if line.tax_code == code]
        tax = external.get(code, ZERO)
        base = sum((line.net for line in group), ZERO)
        left = tax
        for i, line in enumerate(group):
            if i == len(group) - 1:
                part = left
            elif base > 0:
                part = floor_money(tax * line.net / base, digits)
            else:
                part = ZERO
            left -= part
            out.append(replace(line, refund=line.net + part))
    order = {line.line_no: i for i, line in enumerate(lines)}
    return tuple(sorted(out, key=lambda line: order[line.line_no]))


def _tax_share(tax: SoldTax, returned_target: Decimal, all_back: bool, digits: int) -> Decimal:
    if all_back:
        return tax.tax_amount
    if tax.target_amount <= 0 or returned_target <= 0:
        return ZERO
    return min(
        floor_money(tax.tax_amount * returned_target / tax.target_amount, digits), tax.tax_amount
    )


def remaining(lines: Iterable[SoldLine], returned_before: Mapping[int, int]) -> dict[int, int]:
    """Units of each returnable line not returned yet (cancelled and card lines: none)."""
    return {
        line.line_no: max(line.quantity - returned_before.get(line.line_no, 0), 0)
        for line in lines
        if line.returnable
    }


# ---- from a stored tranlog (plain dicts, as the cart writes them) ---------------------------


def _amounts(entries: Any) -> tuple[Decimal, ...]:
    return tuple(to_decimal(d.get("discount_amount") or 0) for d in entries or ())


def sold_lines(line_items: Iterable[Mapping[str, Any]]) -> list[SoldLine]:
    return [
        SoldLine(
            line_no=int(line["line_no"]),
            quantity=int(line.get("quantity") or 0),
            tax_code=str(line.get("tax_code") or ""),
            amount=to_decimal(line.get("amount") or 0),
            discounts=_amounts(line.get("discounts")),
            allocations=_amounts(line.get("discounts_allocated")),
            is_cancelled=bool(line.get("is_cancelled")),
            is_stored_value=bool(line.get("is_stored_value")),
        )
        for line in line_items
    ]


def sold_taxes(taxes: Iterable[Mapping[str, Any]]) -> list[SoldTax]:
    return [
        SoldTax(
            tax_code=str(t["tax_code"]),
            tax_type=TaxType(t["tax_type"]),
            tax_amount=to_decimal(t.get("tax_amount") or 0),
            target_amount=to_decimal(t.get("target_amount") or 0),
        )
        for t in taxes
    ]
