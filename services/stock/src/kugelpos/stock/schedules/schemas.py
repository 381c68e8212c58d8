"""Snapshot-schedule payloads: snake_case on the wire (v1), every rule a 422."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALL_STORES = "all"
_STORE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SnapshotScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    schedule_interval: Literal["daily", "weekly", "monthly"]
    schedule_hour: int = Field(ge=0, le=23)
    schedule_minute: int = Field(default=0, ge=0, le=59)
    schedule_day_of_week: int | None = Field(default=None, ge=0, le=6)  # 0 = Monday
    schedule_day_of_month: int | None = Field(default=None, ge=1, le=31)
    retention_days: int = Field(default=30, ge=1)
    target_stores: list[str] = Field(default_factory=lambda: [ALL_STORES], min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.schedule_interval == "weekly" and self.schedule_day_of_week is None:
            raise ValueError("schedule_day_of_week is required for a weekly schedule")
        if self.schedule_interval == "monthly" and self.schedule_day_of_month is None:
            raise ValueError("schedule_day_of_month is required for a monthly schedule")
        if ALL_STORES in self.target_stores and len(self.target_stores) > 1:
            raise ValueError('target_stores is either ["all"] or a list of store codes')
        bad = [s for s in self.target_stores if s != ALL_STORES and not _STORE.fullmatch(s)]
        if bad:
            raise ValueError("target_stores: store codes are 1-64 letters, digits, '-' or '_'")
        if len(set(self.target_stores)) != len(self.target_stores):
            raise ValueError("target_stores: each store once")
        return self


class SnapshotScheduleResponse(BaseModel):
    enabled: bool
    schedule_interval: str
    schedule_hour: int
    schedule_minute: int
    schedule_day_of_week: int | None = None
    schedule_day_of_month: int | None = None
    retention_days: int
    target_stores: list[str]
    tenant_id: str
    last_executed_at: datetime | None = None
    next_execution_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = "system"
    updated_by: str | None = "system"
