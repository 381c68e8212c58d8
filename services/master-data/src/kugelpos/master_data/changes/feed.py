"""What a till gets for each kind of record: the stored record (snake_case, as the log and the
collections hold it) shaped into the feed's camelCase `data`, and whether the record is one
this store's till should hold at all (else the feed says `delete`).

The same functions shape a snapshot (records read from their collections) and a delta (records
from the log), so a till rebuilt from either holds the same thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kugelpos.common.money import from_storage

from .documents import LogKind, Op

type Raw = dict[str, Any]

# The kinds a till sees, in the order a snapshot pages through them.
FEED_KINDS: tuple[str, ...] = (
    "tax",
    "category",
    "payment",
    "setting",
    "staff",
    "return_reason",
    "promotion",
    "item",
)


def feed_kind(kind: LogKind) -> str:
    """A store's price of an item is, for that store's till, the item."""
    return "item" if kind is LogKind.STORE_ITEM else kind.value


def decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    found = from_storage(value)
    return found if isinstance(found, Decimal) else Decimal(str(found))


def _money(value: Any) -> float | None:
    amount = decimal(value)
    return None if amount is None else float(amount)


def instant(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None if value is None else str(value)
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def effective_price(unit_price: Any, store_price: Any) -> Decimal:
    """As the cart prices a line (`resolve_unit_price`): the store's price when it has one
    and it is not zero, else the item's unit price."""
    store = decimal(store_price)
    if store:
        return store
    return decimal(unit_price) or Decimal(0)


def item_data(item: Raw, store: Raw | None) -> Raw:
    store_price = store.get("store_price") if store else None
    return {
        "itemCode": item["item_code"],
        "description": item.get("description"),
        "descriptionShort": item.get("description_short"),
        "descriptionLong": item.get("description_long"),
        "price": float(effective_price(item.get("unit_price"), store_price)),
        "unitPrice": _money(item.get("unit_price")),
        "storePrice": _money(store_price),
        "unitCost": _money(item.get("unit_cost")),
        "categoryCode": item.get("category_code"),
        "taxCode": item.get("tax_code"),
        "itemDetails": list(item.get("item_details") or []),
        "imageUrls": list(item.get("image_urls") or []),
        "isDiscountRestricted": bool(item.get("is_discount_restricted")),
        "isStoredValue": bool(item.get("is_stored_value")),
    }


def _category(raw: Raw, _store: str) -> Raw:
    return {
        "categoryCode": raw["category_code"],
        "description": raw.get("description"),
        "descriptionShort": raw.get("description_short"),
        "taxCode": raw.get("tax_code"),
    }


def _tax(raw: Raw, _store: str) -> Raw:
    return {
        "taxCode": raw["tax_code"],
        "taxType": raw.get("tax_type"),
        "taxName": raw.get("tax_name"),
        "rate": _money(raw.get("rate")),
        "roundDigit": raw.get("round_digit"),
        "roundMethod": raw.get("round_method"),
    }


def _payment(raw: Raw, _store: str) -> Raw:
    return {
        "paymentCode": raw["payment_code"],
        "description": raw.get("description"),
        "limitAmount": _money(raw.get("limit_amount")),
        "canRefund": bool(raw.get("can_refund")),
        "canDepositOver": bool(raw.get("can_deposit_over")),
        "canChange": bool(raw.get("can_change")),
        "isActive": bool(raw.get("is_active")),
    }


def _setting(raw: Raw, store: str) -> Raw:
    # Only the values this store's tills resolve (tenant-wide, this store's, its terminals');
    # another store's values stay out of this store's feed.
    values = [
        {"storeCode": v.get("store_code"), "terminalNo": v.get("terminal_no"), "value": v["value"]}
        for v in raw.get("values") or []
        if v.get("store_code") in (None, store)
    ]
    return {"name": raw["name"], "defaultValue": raw.get("default_value"), "values": values}


def _staff(raw: Raw, _store: str) -> Raw:
    has_pin = raw["has_pin"] if "has_pin" in raw else bool(raw.get("pin_hash"))
    return {
        "id": raw["id"],
        "name": raw.get("name"),
        "roles": list(raw.get("roles") or []),
        "status": raw.get("status"),
        "hasPin": bool(has_pin),
    }


def _return_reason(raw: Raw, _store: str) -> Raw:
    return {
        "reasonCode": raw["reason_code"],
        "description": raw.get("description"),
        "restock": bool(raw.get("restock")),
        "requiresApproval": bool(raw.get("requires_approval")),
    }


def _promotion(raw: Raw, _store: str) -> Raw:
    detail = raw.get("detail")
    return {
        "promotionCode": raw["promotion_code"],
        "promotionType": raw.get("promotion_type"),
        "name": raw.get("name"),
        "description": raw.get("description"),
        "startDatetime": instant(raw.get("start_datetime")),
        "endDatetime": instant(raw.get("end_datetime")),
        "isActive": bool(raw.get("is_active")),
        "detail": None
        if detail is None
        else {
            "targetStoreCodes": list(detail.get("target_store_codes") or []),
            "targetCategoryCodes": list(detail.get("target_category_codes") or []),
            "discountRate": _money(detail.get("discount_rate")),
        },
    }


def promotion_visible(raw: Raw, store: str) -> bool:
    """A promotion the store's till holds: not deleted, switched on, and for this store (no
    target stores: every store). Its dates are the till's to check, as the cart does: one
    that starts tomorrow is already in the feed, one that ended stays until it is deleted."""
    if raw.get("is_deleted") or not raw.get("is_active"):
        return False
    detail = raw.get("detail") or {}
    targets = detail.get("target_store_codes") or []
    return not targets or store in targets


SHAPES = {
    "category": _category,
    "tax": _tax,
    "payment": _payment,
    "setting": _setting,
    "staff": _staff,
    "return_reason": _return_reason,
    "promotion": _promotion,
}


def change(kind: str, key: str, raw: Raw | None, store: str, op: Op = Op.UPSERT) -> Raw:
    """One entry of the feed's `changes` for a record that is not an item."""
    hidden = kind == "promotion" and raw is not None and not promotion_visible(raw, store)
    if raw is None or op is Op.DELETE or hidden:
        return {"kind": kind, "key": key, "op": Op.DELETE.value, "data": None}
    return {"kind": kind, "key": key, "op": Op.UPSERT.value, "data": SHAPES[kind](raw, store)}


def item_change(key: str, item: Raw | None, store: Raw | None) -> Raw:
    """An item as the store's till holds it: gone (no active item), or with this store's price."""
    if item is None or item.get("is_deleted"):
        return {"kind": "item", "key": key, "op": Op.DELETE.value, "data": None}
    return {"kind": "item", "key": key, "op": Op.UPSERT.value, "data": item_data(item, store)}
