"""Delivery-status models: plain snake_case (v1 contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DeliveryStatusUpdateRequest(BaseModel):
    event_id: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=64)
    status: Literal["received", "failed"]
    message: str | None = Field(default=None, max_length=1000)


class DeliveryStatusUpdateResponse(BaseModel):
    event_id: str
    service: str
    status: str
    success: bool = True
    # Added: the event's overall status after this update.
    overall_status: str | None = None
