"""API models of the store's data feed and of prices at an instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Number
from .feed import instant
from .service import PriceAt

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

    @classmethod
    def of(cls, p: PriceAt) -> PriceAtResponse:
        return cls(item_code=p.item_code, **_price_fields(p))


def _price_fields(p: PriceAt) -> dict[str, Any]:
    return {
        "price": p.price,
        "unit_price": p.unit_price,
        "store_price": p.store_price,
        "tax_code": p.tax_code,
        "source": p.source,
    }


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

    @classmethod
    def of(cls, item_code: str, at: datetime, p: PriceAt | None) -> PriceLookupResult:
        if p is None:
            return cls(item_code=item_code, at=instant(at), known=False)
        return cls(
            item_code=item_code,
            at=instant(at),
            known=True,
            is_stored_value=p.is_stored_value,
            **_price_fields(p),
        )


class PriceLookupsResponse(ApiModel):
    store_code: str
    results: list[PriceLookupResult]  # in the order of the lookups
