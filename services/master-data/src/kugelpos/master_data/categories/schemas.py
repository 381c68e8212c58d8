"""API models of categories."""

from __future__ import annotations

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Name, TimestampedResponse


class CategoryMasterUpdateRequest(ApiModel):
    description: Name
    description_short: Name
    tax_code: Code


class CategoryMasterCreateRequest(CategoryMasterUpdateRequest):
    category_code: Code


class CategoryMasterResponse(TimestampedResponse):
    category_code: str
    description: str
    description_short: str
    tax_code: str


class CategoryMasterDeleteResponse(ApiModel):
    category_code: str
