"""API model base: camelCase on the wire, snake_case or camelCase accepted on input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Base of every request/response schema (kept apart from stored documents)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        str_strip_whitespace=False,
    )


class StrictApiModel(ApiModel):
    """Request bodies that must not silently drop unknown fields."""

    model_config = ConfigDict(extra="forbid")
