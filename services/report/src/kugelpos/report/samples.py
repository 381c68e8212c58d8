"""Builders of inbound logs as cart and terminal publish them (§1.4), for tests and the bench."""

from __future__ import annotations

import uuid
from typing import Any

DATE = "20261201"


def line(
    no: int = 1,
    item: str = "4901",
    category: str = "C1",
    unit_price: float = 1000.0,
    quantity: int = 1,
    discounts: list[dict] | None = None,
    allocated: list[dict] | None = None,
    cancelled: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    own = sum(d["discount_amount"] for d in discounts or [])
    return {
        "line_no": no,
        "item_code": item,
        "category_code": category,
        "description": description or f"Item {item}",
        "description_short": item,
        "unit_price": unit_price,
        "unit_price_original": unit_price,
        "is_unit_price_changed": False,
        "quantity": quantity,
        "discounts": discounts or [],
        "discounts_allocated": allocated or [],
        "amount": unit_price * quantity - own,
        "tax_code": "01",
        "is_cancelled": cancelled,
    }


def discount(amount: float, promotion: str | None = None, kind: str | None = None) -> dict:
    return {
        "seq_no": 1,
        "discount_type": "DiscountAmount",
        "discount_value": amount,
        "discount_amount": amount,
        "detail": "",
        "promotion_code": promotion,
        "promotion_type": kind,
    }


def tax(code: str, amount: float, target: float = 0.0, quantity: int = 0, name: str = "") -> dict:
    return {
        "tax_no": 1,
        "tax_code": code,
        "tax_type": "External",
        "tax_name": name or f"Tax {code}",
        "tax_amount": amount,
        "target_amount": target,
        "target_quantity": quantity,
    }


def payment(code: str, amount: float, description: str | None = None) -> dict:
    names = {"01": "現金", "11": "クレジット"}
    return {
        "payment_no": 1,
        "payment_code": code,
        "deposit_amount": amount,
        "amount": amount,
        "description": description or names.get(code, f"Pay {code}"),
        "detail": "",
    }


def tran(
    tenant: str,
    no: int,
    *,
    type_: int = 101,
    with_tax: float = 1100.0,
    discount_total: float = 0.0,
    quantity: int = 1,
    taxes: list[dict] | None = None,
    payments: list[dict] | None = None,
    lines: list[dict] | None = None,
    subtotal_discounts: list[dict] | None = None,
    cancelled: bool = False,
    store: str = "S1",
    terminal: int = 1,
    business_date: str = DATE,
    open_counter: int = 1,
    time: str | None = None,
) -> dict[str, Any]:
    tax_total = sum(t["tax_amount"] for t in taxes or [])
    day = f"{business_date[:4]}-{business_date[4:6]}-{business_date[6:]}"
    return {
        "event_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "store_code": store,
        "store_name": "Store",
        "terminal_no": terminal,
        "transaction_no": no,
        "transaction_type": type_,
        "business_date": business_date,
        "open_counter": open_counter,
        "business_counter": 1,
        "generate_date_time": time or f"{day}T10:{no % 60:02d}:00+09:00",
        "receipt_no": no,
        "user": {"id": "U1", "name": "Guest"},
        "staff": {"id": "S001", "name": "Taro"},
        "sales": {
            "total_amount": with_tax - tax_total,
            "total_amount_with_tax": with_tax,
            "tax_amount": 0.0,
            "total_quantity": quantity,
            "change_amount": 0.0,
            "total_discount_amount": discount_total,
            "is_cancelled": cancelled,
        },
        "line_items": lines or [],
        "payments": payments if payments is not None else [payment("01", with_tax)],
        "taxes": taxes or [],
        "subtotal_discounts": subtotal_discounts or [],
        "receipt_text": "<PrintData/>",
        "journal_text": f"tran {no}\n",
        "is_voided": False,
        "is_refunded": False,
    }


def cash(
    tenant: str,
    amount: float | None,
    *,
    at: str = "09:00:00",
    store: str = "S1",
    terminal: int = 1,
    business_date: str = DATE,
    open_counter: int = 1,
    description: str = "cash",
) -> dict[str, Any]:
    day = f"{business_date[:4]}-{business_date[4:6]}-{business_date[6:]}"
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "cash_in_out",
        "tenant_id": tenant,
        "store_code": store,
        "store_name": "Store",
        "terminal_no": terminal,
        "staff_id": "S001",
        "staff_name": "Taro",
        "business_date": business_date,
        "open_counter": open_counter,
        "business_counter": 1,
        "generate_date_time": f"{day}T{at}+09:00",
        "amount": amount,
        "description": description,
        "receipt_text": "<PrintData/>",
        "journal_text": "cash\n",
    }


def open_close(
    tenant: str,
    operation: str,
    *,
    store: str = "S1",
    terminal: int = 1,
    business_date: str = DATE,
    open_counter: int = 1,
    physical: float | None = None,
    at: str | None = None,
    **announced: Any,
) -> dict[str, Any]:
    day = f"{business_date[:4]}-{business_date[4:6]}-{business_date[6:]}"
    default_at = "08:00:00" if operation == "open" else "21:00:00"
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": operation,
        "tenant_id": tenant,
        "store_code": store,
        "store_name": "Store",
        "terminal_no": terminal,
        "staff_id": "S001",
        "staff_name": "Taro",
        "business_date": business_date,
        "open_counter": open_counter,
        "business_counter": 1,
        "operation": operation,
        "generate_date_time": f"{day}T{at or default_at}+09:00",
        "terminal_info": {
            "terminal_id": f"{tenant}-{store}-{terminal}",
            "initial_amount": None,
            "physical_amount": physical,
        },
        "receipt_text": "<PrintData/>",
        "journal_text": f"{operation}\n",
        **announced,
    }


def worked_example(tenant: str) -> list[tuple[str, dict[str, Any]]]:
    """§3.7's worked example: (topic kind, log) pairs."""
    t01 = "01"
    lines_t1 = [
        line(1, "A", "C1", 1100.0, 2, discounts=[discount(200.0)]),
        line(2, "B", "C2", 200.0, 1),
    ]
    lines_t6 = [
        line(1, "A", "C1", 1650.0, 1, allocated=[discount(150.0)]),
        line(2, "B", "C2", 1650.0, 1, allocated=[discount(150.0)]),
    ]
    t1 = dict(
        type_=101, with_tax=2200.0, discount_total=200.0, quantity=3,
        taxes=[tax(t01, 200.0, 2000.0, 3, "消費税10%")], payments=[payment("01", 2200.0)],
        lines=lines_t1,
    )  # fmt: skip
    t2 = dict(
        type_=101, with_tax=1100.0, quantity=1, taxes=[tax(t01, 100.0, 1000.0, 1, "消費税10%")],
        payments=[payment("11", 1100.0)], lines=[line(1, "C", "C1", 1100.0, 1)],
    )  # fmt: skip
    t3 = {**t2, "type_": 102, "payments": [payment("01", 1100.0)]}
    t4 = {**t1, "type_": 201}
    t6 = dict(
        type_=101, with_tax=3300.0, discount_total=300.0, quantity=2,
        taxes=[tax(t01, 300.0, 3000.0, 2, "消費税10%")],
        payments=[payment("01", 2000.0), payment("11", 1300.0)], lines=lines_t6,
        subtotal_discounts=[discount(300.0)],
    )  # fmt: skip
    trans = [
        tran(tenant, 1, **t1),
        tran(tenant, 2, **t2),
        tran(tenant, 3, **t3),
        tran(tenant, 4, **t4),
        tran(tenant, 5, with_tax=5000.0, cancelled=True),
        tran(tenant, 6, **t6),
    ]
    return [
        ("openclose", open_close(tenant, "open")),
        ("cash", cash(tenant, 10000.0, at="08:00:01", description="Initial amount")),
        ("cash", cash(tenant, 500.0, at="12:00:00")),
        ("cash", cash(tenant, -300.0, at="13:00:00")),
        *[("tran", t) for t in trans],
        (
            "openclose",
            open_close(
                tenant,
                "close",
                physical=11050.0,
                cart_transaction_count=6,
                cart_transaction_last_no=6,
                cash_in_out_count=3,
                cash_in_out_last_datetime="2026-12-01T13:00:00+09:00",
            ),
        ),
    ]
