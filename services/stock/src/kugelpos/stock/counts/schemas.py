"""API models of physical counts (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from kugelpos.common.money import Money
from kugelpos.common.schemas import ApiModel

from ..quantities import Quantity
from ..stocks.schemas import LineItemCode, Text
from .documents import CountStatus

# A count's scope of items (a store counts at most this many named items at once; the
# whole store is `{}`).
MAX_SCOPE_ITEMS = 10_000
Zone = Annotated[str, Field(min_length=1, max_length=64)]
CategoryCode = Annotated[str, Field(min_length=1, max_length=64)]
ScopeItems = Annotated[list[LineItemCode], Field(min_length=1, max_length=MAX_SCOPE_ITEMS)]


class CountRequest(ApiModel):
    """`{}`: the whole store; `{"itemCodes": [...]}`: those items; `{"categoryCodes": [...]}`:
    the active items of those categories in the item master (master-data) when it opens."""

    item_codes: ScopeItems | None = None
    category_codes: Annotated[list[CategoryCode], Field(min_length=1, max_length=100)] | None = None
    operator_id: Text | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> CountRequest:
        if self.item_codes is not None and self.category_codes is not None:
            raise ValueError("a count is by itemCodes or by categoryCodes, not both")
        return self


class CountLineRequest(ApiModel):
    item_code: LineItemCode
    zone: Zone
    counted_quantity: Annotated[Quantity, Field(ge=0)]


class CountZoneResponse(ApiModel):
    zone: str
    counted_quantity: Money
    quantity_at_count: Money  # the item's quantity when this zone was entered


class CountItemResponse(ApiModel):
    item_code: str
    # The item's quantity when its latest zone was entered (null: not counted yet).
    expected_quantity: Money | None = None
    counted_quantity: Money | None = None  # the sum of its zones
    variance: Money | None = None  # counted - expected
    average_cost: Money
    variance_value: Money | None = None  # variance x average cost, half-up to 4 decimals
    current_quantity: Money  # the row now (after the post: counted + later movements)
    zones: list[CountZoneResponse] = Field(default_factory=list)


class CountResponse(ApiModel):
    count_id: str
    tenant_id: str
    store_code: str
    status: CountStatus
    item_codes: list[str] | None = None  # null: the whole store
    operator_id: str | None = None
    opened_at: datetime
    closed_at: datetime | None = None
    items: list[CountItemResponse]
    total_variance_value: Money


class CountEntryLineResponse(ApiModel):
    item_code: str
    zone: str
    counted_quantity: Money
    quantity_at_count: Money  # the item's quantity read when this entry stored the zone


class CountEntryResponse(ApiModel):
    """An entry of lines answers its own lines only (`GET …/counts/{countId}` is the whole
    count): its cost stays that of the entry however many lines the count holds."""

    count_id: str
    tenant_id: str
    store_code: str
    status: CountStatus
    revision: int  # the count's revision this entry wrote (its zones' order)
    lines: list[CountEntryLineResponse]  # one per (item, zone) entered, the last one winning


class CountSummaryResponse(ApiModel):
    """A count in the store's list: no per-item figures (those are `GET …/counts/{countId}`);
    a posted count gives what its post applied."""

    count_id: str
    tenant_id: str
    store_code: str
    status: CountStatus
    item_codes: list[str] | None = None  # null: the whole store
    operator_id: str | None = None
    opened_at: datetime
    closed_at: datetime | None = None
    posted_items: int | None = None  # posted: the items it counted (null otherwise)
    total_variance_value: Money | None = None  # posted: the sum of its variance values
