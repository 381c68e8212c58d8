"""Which item codes the tenant's item master knows: stock keeps no item master of its own, so
its back-office requests (adjustments, receipts, counts, transfers) ask master-data, one call
per request whatever its size (`POST …/items/lookup`), before they write anything. Sales never
ask: a sale's event moves the stock of whatever the till sold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.errors import ExternalServiceError

from .errors import CountCategoryEmptyError, UnknownItemsError

# What one lookup answers (master-data's bounds, beyond which a request is refused first).
MAX_CATEGORY_ITEMS = 10_000
SHOWN = 10  # unknown codes named in the refusal


class ItemMaster:
    def __init__(self, caller: ServiceCaller, base_url_master_data: str) -> None:
        self._caller = caller
        self._md = base_url_master_data.rstrip("/")

    def _url(self, tenant_id: str) -> str:
        return f"{self._md}/tenants/{quote(tenant_id, safe='')}/items/lookup"

    async def _lookup(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        data = await self._caller.post_data(self._url(tenant_id), tenant_id, body)
        if not isinstance(data, dict):
            raise ExternalServiceError("master-data answered no item lookup")
        return data

    async def require(self, tenant_id: str, codes: Iterable[str]) -> None:
        """Every code an active item of the tenant, else 400 `414701` naming the unknown ones
        (the first ten), before anything is written."""
        wanted = sorted(set(codes))
        if not wanted:
            return
        data = await self._lookup(tenant_id, {"itemCodes": wanted})
        unknown = [str(code) for code in data.get("unknownItemCodes") or []]
        if unknown:
            more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
            raise UnknownItemsError(
                f"Unknown items (not in the item master): {', '.join(unknown[:SHOWN])}{more}"
            )

    async def of_categories(self, tenant_id: str, categories: list[str]) -> list[str]:
        """The active items of the categories (a count's scope): 400 `414505` when they hold
        none, or more than a count covers."""
        data = await self._lookup(tenant_id, {"categoryCodes": sorted(set(categories))})
        codes = sorted({str(x["itemCode"]) for x in data.get("items") or [] if "itemCode" in x})
        if data.get("more") or len(codes) > MAX_CATEGORY_ITEMS:
            raise CountCategoryEmptyError(
                f"Categories {', '.join(categories[:SHOWN])} hold more than "
                f"{MAX_CATEGORY_ITEMS:,} items: count them by itemCodes in parts"
            )
        if not codes:
            raise CountCategoryEmptyError(
                f"No active item in categories {', '.join(categories[:SHOWN])}"
            )
        return codes
