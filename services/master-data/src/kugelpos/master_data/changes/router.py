"""The store's data feed for tills working offline, and the prices in force at an instant:
`/api/v1/tenants/{tenant_id}/stores/{store_code}/sync`, `.../items/prices-at` (issue 27)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Query

from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import PriceReader, StoreFeedReader, SyncServiceDep
from .cursor import decode
from .feed import instant
from .schemas import (
    FeedChange,
    PriceAtResponse,
    PriceLookupResult,
    PriceLookupsRequest,
    PriceLookupsResponse,
    PricesAtRequest,
    PricesAtResponse,
    SyncResponse,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/stores/{store_code}", tags=["sync"])
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


@router.get("/sync", response_model=ApiResponse[SyncResponse])
async def get_store_sync(
    tenant_id: str,
    store_code: StoreCode,
    _: StoreFeedReader,
    sync: SyncServiceDep,
    since: Annotated[
        str | None,
        Query(max_length=512, description="the cursor of the previous answer; none: snapshot"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ApiResponse[SyncResponse]:
    cursor = None if since is None else decode(since, tenant_id, store_code)
    page = await sync.page(tenant_id, store_code, cursor, limit)
    return ok(
        SyncResponse(
            changes=[FeedChange.model_validate(c) for c in page.changes],
            cursor=page.cursor.encode(tenant_id, store_code),
            has_more=page.has_more,
        ),
        message="Store data retrieved successfully",
        operation="get_store_sync",
    )


@router.post("/items/prices-at", response_model=ApiResponse[PricesAtResponse])
async def get_item_prices_at(
    tenant_id: str,
    store_code: StoreCode,
    body: PricesAtRequest,
    _: PriceReader,
    sync: SyncServiceDep,
) -> ApiResponse[PricesAtResponse]:
    at = body.at.astimezone(UTC)
    prices, unknown = await sync.prices_at(tenant_id, store_code, body.item_codes, at)
    return ok(
        PricesAtResponse(
            at=instant(at),
            store_code=store_code,
            prices=[PriceAtResponse.of(p) for p in prices],
            unknown=unknown,
        ),
        message="Prices retrieved successfully",
        operation="get_item_prices_at",
    )


@router.post("/items/prices-at/lookups", response_model=ApiResponse[PriceLookupsResponse])
async def get_item_prices_at_times(
    tenant_id: str,
    store_code: StoreCode,
    body: PriceLookupsRequest,
    _: PriceReader,
    sync: SyncServiceDep,
) -> ApiResponse[PriceLookupsResponse]:
    """Prices in force at several instants in one read (up to 1,000 item/instant pairs)."""
    asked = [(lookup.item_code, lookup.at.astimezone(UTC)) for lookup in body.lookups]
    found = await sync.prices_at_times(tenant_id, store_code, asked)
    results = [
        PriceLookupResult.of(code, at, price)
        for (code, at), price in zip(asked, found, strict=True)
    ]
    return ok(
        PriceLookupsResponse(store_code=store_code, results=results),
        message="Prices retrieved successfully",
        operation="get_item_prices_at_times",
    )
