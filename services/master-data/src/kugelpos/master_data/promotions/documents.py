"""How a promotion is stored in `master_promotion` (instants in UTC)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ..documents import MasterDocument, StoredDecimal


class PromotionDetail(BaseModel):
    target_store_codes: list[str] = []  # empty = every store
    target_category_codes: list[str] = []
    discount_rate: StoredDecimal  # percent, 0 < r <= 100


class PromotionDocument(MasterDocument):
    promotion_code: str
    promotion_type: str
    name: str
    description: str | None = None
    start_datetime: datetime
    end_datetime: datetime
    is_active: bool = True
    is_deleted: bool = False
    detail: PromotionDetail | None = None
