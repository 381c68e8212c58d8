"""API models of transfers (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel

from ..adjustments.schemas import MAX_LINES
from ..quantities import Quantity
from ..stocks.schemas import LineItemCode, Text
from .documents import TransferStatus

StoreCode = Annotated[str, Field(min_length=1, max_length=64)]


def _unique_items[L: TransferLineRequest | ReceivedLineRequest](lines: list[L]) -> list[L]:
    codes = [line.item_code for line in lines]
    if len(set(codes)) != len(codes):
        raise ValueError("an item twice: send one line per item")
    return lines


class TransferLineRequest(ApiModel):
    item_code: LineItemCode
    quantity: Annotated[Quantity, Field(gt=0)]


class TransferRequest(ApiModel):
    from_store: StoreCode
    to_store: StoreCode
    lines: Annotated[list[TransferLineRequest], Field(min_length=1, max_length=MAX_LINES)]
    operator_id: Text | None = None

    _items = field_validator("lines")(_unique_items)


class ReceivedLineRequest(ApiModel):
    item_code: LineItemCode
    quantity: Annotated[Quantity, Field(ge=0)]


class ReceiveRequest(ApiModel):
    """The lines received now; `complete`: nothing more will come (what is still in transit
    becomes the discrepancy, the transfer is `received`)."""

    lines: Annotated[list[ReceivedLineRequest], Field(max_length=MAX_LINES)]
    complete: bool = False
    operator_id: Text | None = None

    _items = field_validator("lines")(_unique_items)

    @model_validator(mode="after")
    def _something(self) -> ReceiveRequest:
        if not self.lines and not self.complete:
            raise ValueError("no lines: send what was received, or complete: true")
        return self


class TransferLineResponse(ApiModel):
    item_code: str
    shipped_quantity: Money
    received_quantity: Money
    in_transit_quantity: Money
    discrepancy_quantity: Money  # shipped, never received (set when closed as received)
    unit_cost: Money  # the sending store's average cost when shipped


class ReceivedLineResponse(ApiModel):
    item_code: str
    quantity: Money


class TransferReceiptResponse(ApiModel):
    received_at: datetime
    lines: list[ReceivedLineResponse]
    operator_id: str | None = None


class TransferResponse(ApiModel):
    transfer_id: str
    tenant_id: str
    from_store: str
    to_store: str
    status: TransferStatus
    operator_id: str | None = None
    shipped_at: datetime
    closed_at: datetime | None = None
    lines: list[TransferLineResponse]
    receipts: list[TransferReceiptResponse]
