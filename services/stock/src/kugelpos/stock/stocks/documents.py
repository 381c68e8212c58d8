"""Stored stock rows and their history (database `db_stock_<tenant>`).

Quantities are stored as integer units (see `quantities`), so `$inc` stays exact.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from kugelpos.common.clock import utcnow
from kugelpos.common.db.documents import Document

from ..costs import from_cost_units
from ..quantities import from_units


class UpdateType(StrEnum):
    SALE = "sale"
    RETURN = "return"
    VOID = "void"
    VOID_RETURN = "void_return"
    PURCHASE = "purchase"
    ADJUSTMENT = "adjustment"
    INITIAL = "initial"
    DAMAGE = "damage"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    RECEIPT = "receipt"  # a delivery taken in (`POST .../stock/receipts`)
    COUNT = "count"  # a physical count's variance (`POST .../stock/counts/{countId}/post`)


class UpdateFlag(StrEnum):
    """What an update noticed without refusing it (a shop is never blocked at the till)."""

    NEGATIVE_STOCK = "negative_stock"  # the stock is below zero after the update
    NEW_ITEM = "new_item"  # the first update of an item the store had no stock row for


class StockDocument(Document):
    tenant_id: str
    store_code: str
    item_code: str
    current_units: int = 0
    minimum_units: int = 0
    reorder_point_units: int = 0
    reorder_quantity_units: int = 0
    last_transaction_id: str | None = None
    # Moving-average cost in cost units of 1/10,000 (`costs`); set by receipts only.
    average_cost_units: int = 0
    shard_key: str | None = None
    etag: str | None = None

    @property
    def current_quantity(self) -> Decimal:
        return from_units(self.current_units)

    @property
    def average_cost(self) -> Decimal:
        return from_cost_units(self.average_cost_units)

    @property
    def minimum_quantity(self) -> Decimal:
        return from_units(self.minimum_units)

    @property
    def reorder_point(self) -> Decimal:
        return from_units(self.reorder_point_units)

    @property
    def reorder_quantity(self) -> Decimal:
        return from_units(self.reorder_quantity_units)

    @property
    def is_low(self) -> bool:
        """The low-stock list and the minimum alert: a minimum is set and not reached."""
        return self.minimum_units > 0 and self.current_units < self.minimum_units

    @property
    def is_negative(self) -> bool:
        return self.current_units < 0

    @property
    def needs_reorder(self) -> bool:
        return self.reorder_point_units > 0 and self.current_units <= self.reorder_point_units


class StockUpdateDocument(Document):
    """One history row per applied change; `before`/`after` come from the atomic result."""

    tenant_id: str
    store_code: str
    item_code: str
    update_type: UpdateType
    change_units: int
    before_units: int
    after_units: int
    reference_id: str | None = None
    # Unique across terminals for sales: `<terminal_no>-<transaction_no>`.
    transaction_key: str | None = None
    event_id: str | None = None
    timestamp: datetime = Field(default_factory=utcnow)
    operator_id: str | None = None
    note: str | None = None
    flags: list[UpdateFlag] = Field(default_factory=list)
    # Receipts: the line's unit cost and the item's average cost after it (cost units).
    unit_cost_units: int | None = None
    average_cost_units: int | None = None
    shard_key: str | None = None
