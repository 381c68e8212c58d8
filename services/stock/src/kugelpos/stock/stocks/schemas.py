"""API models of stock rows, updates and thresholds (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel

from ..quantities import Quantity
from .documents import UpdateFlag, UpdateType
from .service import RESERVED_ITEM_CODES

NonNegative = Annotated[Quantity, Field(ge=0)]
Text = Annotated[str, Field(max_length=256)]


def _addressable(value: str) -> str:
    if value in RESERVED_ITEM_CODES:
        raise ValueError(f"{value!r} is a path segment, not an item code")
    return value


# An item code in a body (batch lines): what `{item_code}` accepts, and readable there.
LineItemCode = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_addressable)]


class StockResponse(ApiModel):
    tenant_id: str
    store_code: str
    item_code: str
    current_quantity: Money
    minimum_quantity: Money
    reorder_point: Money
    reorder_quantity: Money
    last_updated: datetime
    last_transaction_id: str | None = None
    # Beyond v1: the moving-average cost at this store (receipts, transfers in), 0 if never set.
    average_cost: Money


class StockUpdateRequest(ApiModel):
    quantity_change: Quantity
    update_type: UpdateType
    reference_id: Text | None = None
    operator_id: Text | None = None
    note: Annotated[str, Field(max_length=1000)] | None = None

    @field_validator("update_type")
    @classmethod
    def _not_a_receipt(cls, value: UpdateType) -> UpdateType:
        # A receipt moves the average cost too: only `POST .../stock/receipts` writes one.
        if value is UpdateType.RECEIPT:
            raise ValueError("a receipt is taken in through POST .../stock/receipts")
        if value is UpdateType.COUNT:
            raise ValueError("a count's variance is posted through POST .../stock/counts")
        return value


class StockUpdateResponse(ApiModel):
    tenant_id: str
    store_code: str
    item_code: str
    update_type: UpdateType
    quantity_change: Money
    before_quantity: Money
    after_quantity: Money
    reference_id: str | None = None
    timestamp: datetime
    operator_id: str | None = None
    note: str | None = None
    # Beyond v1 (additive): unique across terminals for sales, and what the update noticed.
    transaction_key: str | None = None
    flags: list[UpdateFlag] = Field(default_factory=list)
    # Receipts (additive): the line's unit cost and the item's average cost after it.
    unit_cost: Money | None = None
    average_cost: Money | None = None


class SetMinimumQuantityRequest(ApiModel):
    minimum_quantity: NonNegative


class SetReorderParametersRequest(ApiModel):
    reorder_point: NonNegative
    reorder_quantity: NonNegative
