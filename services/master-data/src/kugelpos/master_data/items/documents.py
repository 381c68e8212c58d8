"""How an item is stored in `master_item_common`."""

from __future__ import annotations

from decimal import Decimal

from ..documents import MasterDocument, StoredDecimal


class ItemDocument(MasterDocument):
    item_code: str
    description: str
    description_short: str | None = None
    description_long: str | None = None
    unit_price: StoredDecimal = Decimal(0)
    unit_cost: StoredDecimal = Decimal(0)
    item_details: list[str] = []
    image_urls: list[str] = []
    category_code: str
    tax_code: str
    is_discount_restricted: bool = False
    is_stored_value: bool = False
    is_deleted: bool = False
