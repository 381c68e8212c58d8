"""API models of common items."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

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
    # Beyond v1 (issue 26): a gift card or a reload; the cart sells it with a card number, at
    # the price asked (the load), without tax, discount or promotion.
    is_stored_value: bool = False


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
    is_stored_value: bool = False
    is_deleted: bool


class ItemDeleteResponse(ApiModel):
    item_code: str
    is_logical: bool


# A lookup's bounds: stock counts at most 10,000 named items at once, and its requests carry up
# to 1,000 lines; categories are few.
MAX_LOOKUP_CODES = 10_000
MAX_LOOKUP_CATEGORIES = 100
MAX_LOOKUP_RESULTS = 10_000


# Any code a caller may hold (a code no item can have is simply unknown).
LookupCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ItemLookupRequest(ApiModel):
    """`{"itemCodes": [...]}` (which of these are active items) or `{"categoryCodes": [...]}`
    (the active items of these categories), not both."""

    item_codes: (
        Annotated[list[LookupCode], Field(min_length=1, max_length=MAX_LOOKUP_CODES)] | None
    ) = None
    category_codes: (
        Annotated[list[LookupCode], Field(min_length=1, max_length=MAX_LOOKUP_CATEGORIES)] | None
    ) = None

    @model_validator(mode="after")
    def _one_kind(self) -> ItemLookupRequest:
        if (self.item_codes is None) == (self.category_codes is None):
            raise ValueError("give itemCodes or categoryCodes (one of them)")
        return self


class ItemLookupEntry(ApiModel):
    item_code: str
    category_code: str
    description: str


class ItemLookupResponse(ApiModel):
    items: list[ItemLookupEntry]  # active items found, by item code
    # By itemCodes: the asked codes that are no active item (unknown or logically deleted).
    unknown_item_codes: list[str] = Field(default_factory=list)
    # By categoryCodes: true when the categories hold more than the items listed (10,000).
    more: bool = False
