"""API models of common items."""

from __future__ import annotations

from pydantic import Field

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Money, Name, Number, Text, TimestampedResponse, Url


class ItemUpdateRequest(ApiModel):
    description: Name
    unit_price: Money
    unit_cost: Money
    item_details: list[Text] = Field(max_length=100)
    image_urls: list[Url] = Field(max_length=20)
    category_code: Code
    tax_code: Code
    is_discount_restricted: bool | None = False


class ItemCreateRequest(ItemUpdateRequest):
    item_code: Code


class ItemResponse(TimestampedResponse):
    item_code: str
    description: str
    unit_price: Number
    unit_cost: Number
    item_details: list[str]
    image_urls: list[str]
    category_code: str
    tax_code: str
    is_discount_restricted: bool
    is_deleted: bool


class ItemDeleteResponse(ApiModel):
    item_code: str
    is_logical: bool
