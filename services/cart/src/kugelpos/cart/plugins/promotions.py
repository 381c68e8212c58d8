"""Sales-promotion plugins.

`CategoryPromoPlugin` (spec §7): at cart creation it reads the store's active promotions from
master-data (cached) and keeps them in the cart; on every recalc the category rule
(`promotions.category`) appends the best category discount to eligible lines.
`SalesPromoSample` shows the smallest plugin: it does nothing.
"""

from __future__ import annotations

from typing import Any

from ..cache.terminals import TerminalInfo
from ..master_data_client import MasterDataClient
from ..pricing.engine import Promotion
from ..pricing.money import RoundMethod
from ..promotions.category import CATEGORY_DISCOUNT, ActivePromotion, CategoryPromotion


class SalesPromoSample:
    name = "sample"

    async def snapshot(self, masters: MasterDataClient, terminal: TerminalInfo) -> Any:
        return None

    def promotion(self, snapshot: Any, method: RoundMethod, digits: int) -> Promotion | None:
        return None


class CategoryPromoPlugin:
    name = "category_promotion"

    async def snapshot(
        self, masters: MasterDataClient, terminal: TerminalInfo
    ) -> list[dict[str, Any]]:
        found = await masters.active_promotions(terminal.tenant_id, terminal.store_code)
        return [
            {
                "promotion_code": p.get("promotionCode"),
                "promotion_type": p.get("promotionType"),
                "name": p.get("name") or "",
                "detail": p.get("detail"),
            }
            for p in found
            if p.get("promotionType") == CATEGORY_DISCOUNT and p.get("promotionCode")
        ]

    def promotion(self, snapshot: Any, method: RoundMethod, digits: int) -> Promotion | None:
        if not snapshot:
            return None
        active = tuple(
            ActivePromotion(
                promotion_code=str(p["promotion_code"]),
                promotion_type=str(p["promotion_type"]),
                name=str(p.get("name") or ""),
                detail=p.get("detail"),
            )
            for p in snapshot
            if isinstance(p, dict)
        )
        return CategoryPromotion(active, method, digits)
