"""API models of store prices and the merged item details."""

from __future__ import annotations

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Money, Number, TimestampedResponse


class ItemStoreCreateRequest(ApiModel):
    item_code: Code
    store_price: Money


class ItemStoreUpdateRequest(ApiModel):
    store_price: Money


class ItemStoreResponse(TimestampedResponse):
    item_code: str
    store_price: Number


class ItemStoreDeleteResponse(ApiModel):
    item_code: str


class ItemStoreDetailResponse(TimestampedResponse):
    item_code: str
    description: str
    unit_price: Number
    unit_cost: Number
    store_price: Number | None = None
    item_details: list[str]
    image_urls: list[str]
    category_code: str
    tax_code: str
    is_discount_restricted: bool
    is_stored_value: bool = False
    is_deleted: bool = False
