"""API models of the card settings and an expiry run."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kugelpos.common.schemas import ApiModel

Days = Annotated[int, Field(ge=1, le=36_500)]


class CardSettingsRequest(ApiModel):
    # Days without use after which a card of the kind expires (null: never).
    gift_expiry_days: Days | None = None
    credit_expiry_days: Days | None = None


class CardSettingsResponse(ApiModel):
    gift_expiry_days: int | None = None
    credit_expiry_days: int | None = None


class ExpiryRunResponse(ApiModel):
    expired_cards: int
    breakage: int  # the balances written off, minor units
