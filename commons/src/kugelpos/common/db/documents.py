"""Base of every stored document (kept apart from the API schemas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..clock import utcnow


class Document(BaseModel):
    """Stored snake_case; audit fields on every document; Mongo's `_id` never leaves the db."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime | None = None
    created_by: str | None = None
    updated_by: str | None = None

    def to_mongo(self) -> dict:
        return self.model_dump(mode="python", by_alias=False)
