"""API models of promotions. Times without an offset are in the app timezone (TIMEZONE);
responses show app-local `YYYY-MM-DDTHH:MM:SS`, so what was sent is what comes back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, JsonNumber, Name, Text, TimestampedResponse

CATEGORY_DISCOUNT = "category_discount"
Rate = Annotated[
    Decimal, Field(gt=0, le=100, max_digits=9, decimal_places=6, allow_inf_nan=False), JsonNumber
]


class PromotionDetailModel(ApiModel):
    target_store_codes: list[Code] = Field(default_factory=list, max_length=1000)
    target_category_codes: list[Code] = Field(min_length=1, max_length=1000)
    discount_rate: Rate


class PromotionCreateRequest(ApiModel):
    promotion_code: Code
    promotion_type: Code
    name: Name
    description: Text | None = None
    start_datetime: datetime
    end_datetime: datetime
    is_active: bool = True
    detail: PromotionDetailModel | None = None


class PromotionUpdateRequest(ApiModel):
    name: Name | None = None
    description: Text | None = None
    start_datetime: datetime | None = None
    end_datetime: datetime | None = None
    is_active: bool | None = None
    detail: PromotionDetailModel | None = None


class PromotionResponse(TimestampedResponse):
    promotion_code: str
    promotion_type: str
    name: str
    description: str | None = None
    start_datetime: str
    end_datetime: str
    is_active: bool
    detail: PromotionDetailModel | None = None


class PromotionDeleteResponse(ApiModel):
    promotion_code: str
