"""API models of receipts (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel

from ..adjustments.schemas import MAX_LINES
from ..costs import Cost
from ..quantities import Quantity
from ..stocks.schemas import LineItemCode, Text


class ReceiptLineRequest(ApiModel):
    item_code: LineItemCode
    quantity: Annotated[Quantity, Field(gt=0)]
    unit_cost: Annotated[Cost, Field(ge=0)]


class ReceiptRequest(ApiModel):
    supplier: Annotated[str, Field(min_length=1, max_length=256)]
    reference: Annotated[str, Field(min_length=1, max_length=128)]
    lines: Annotated[list[ReceiptLineRequest], Field(min_length=1, max_length=MAX_LINES)]
    operator_id: Text | None = None


class ReceiptLineResponse(ApiModel):
    item_code: str
    quantity: Money
    unit_cost: Money
    line_cost: Money  # quantity x unit cost, rounded half-up to 4 decimals
    before_quantity: Money
    after_quantity: Money
    average_cost: Money  # the item's moving-average cost after this line


class ReceiptResponse(ApiModel):
    receipt_id: str
    tenant_id: str
    store_code: str
    supplier: str
    reference: str
    operator_id: str | None = None
    received_at: datetime
    total_cost: Money  # the sum of the lines' costs
    lines: list[ReceiptLineResponse]
