"""API models of the store's data feed and of prices at an instant."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Number

MAX_PRICE_CODES = 1000


class FeedChange(ApiModel):
    kind: str
    key: str
    op: Literal["upsert", "delete"]
    # The record in the feed's own camelCase shape (docs/offline.md); None for a delete.
    data: dict[str, Any] | None = None


class SyncResponse(ApiModel):
    changes: list[FeedChange]
    cursor: str
    has_more: bool


class PricesAtRequest(ApiModel):
    item_codes: list[Code] = Field(min_length=1, max_length=MAX_PRICE_CODES)
    # An instant: with its offset (`2026-12-07T09:30:00+09:00`, `...Z`).
    at: AwareDatetime


class PriceAtResponse(ApiModel):
    item_code: str
    price: Number
    unit_price: Number
    store_price: Number | None = None
    tax_code: str | None = None
    source: Literal["log", "current"]


class PricesAtResponse(ApiModel):
    at: str
    store_code: str
    prices: list[PriceAtResponse]
    unknown: list[str]


class PriceLookup(ApiModel):
    item_code: Code
    at: AwareDatetime


class PriceLookupsRequest(ApiModel):
    """Several instants at once: each sale of an offline batch was made at its own time."""

    lookups: list[PriceLookup] = Field(min_length=1, max_length=MAX_PRICE_CODES)


class PriceLookupResult(ApiModel):
    item_code: str
    at: str
    known: bool  # false: no active item of that code at that instant (no price fields)
    price: Number | None = None
    unit_price: Number | None = None
    store_price: Number | None = None
    tax_code: str | None = None
    source: Literal["log", "current"] | None = None
    is_stored_value: bool | None = None  # a gift card / store-credit item then


class PriceLookupsResponse(ApiModel):
    store_code: str
    results: list[PriceLookupResult]  # in the order of the lookups
