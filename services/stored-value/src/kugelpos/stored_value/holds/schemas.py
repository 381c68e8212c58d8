"""API models of holds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from kugelpos.common.schemas import ApiModel

from ..cards.numbers import masked
from ..cards.schemas import Pin
from .documents import HoldDocument, HoldState, ReleaseReason

HoldId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class HoldRequest(ApiModel):
    # In the currency's minor units: a whole number above zero.
    amount: Annotated[int, Field(gt=0, le=10**12)]
    pin: Pin | None = None
    # The caller's own id makes a retried request place one hold (the cart: its cart id and
    # payment number); without it, each request is a new hold.
    hold_id: HoldId | None = None
    reference: Annotated[str, Field(max_length=128)] | None = None  # the cart
    # Released by the service after this many seconds if not captured (at most, and by
    # default, the service's `HOLD_TTL_SECONDS`).
    ttl_seconds: Annotated[int, Field(ge=1)] | None = None
    store_code: Annotated[str, Field(max_length=64)] | None = None
    terminal_no: Annotated[int, Field(ge=0)] | None = None


class CaptureRequest(ApiModel):
    transaction: Annotated[str, Field(max_length=128)] | None = None


class HoldResponse(ApiModel):
    hold_id: str
    card_no: str  # masked
    amount: int
    state: HoldState
    reference: str | None = None
    expires_at: datetime
    captured_at: datetime | None = None
    released_at: datetime | None = None
    release_reason: ReleaseReason | None = None

    @classmethod
    def of(cls, hold: HoldDocument) -> HoldResponse:
        return cls(
            hold_id=hold.hold_id,
            card_no=masked(hold.card_no),
            amount=hold.amount,
            state=hold.state,
            reference=hold.reference,
            expires_at=hold.expires_at,
            captured_at=hold.captured_at,
            released_at=hold.released_at,
            release_reason=hold.release_reason,
        )
