"""API models of pending loads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from kugelpos.common.schemas import ApiModel

from ..cards.numbers import masked
from ..holds.schemas import HoldId
from .documents import LoadState
from .service import LoadView


class LoadRequest(ApiModel):
    # In the currency's minor units: a whole number above zero.
    amount: Annotated[int, Field(gt=0, le=10**12)]
    # `load`: a card sold (the sale activates it); `refund`: money back to store credit.
    kind: Literal["load", "refund"] = "load"
    # The caller's own id makes a retried request register one load.
    load_id: HoldId | None = None
    reference: Annotated[str, Field(max_length=128)] | None = None  # the cart
    store_code: Annotated[str, Field(max_length=64)] | None = None
    terminal_no: Annotated[int, Field(ge=0)] | None = None


class LoadResponse(ApiModel):
    load_id: str
    card_no: str  # masked
    amount: int
    kind: str
    state: LoadState
    reversible: bool
    reference: str | None = None
    applied_at: datetime | None = None
    reversed_at: datetime | None = None

    @classmethod
    def of(cls, view: LoadView) -> LoadResponse:
        load = view.load
        return cls(
            load_id=load.load_id,
            card_no=masked(load.card_no),
            amount=load.amount,
            kind=load.kind.value,
            state=load.state,
            reversible=view.reversible,
            reference=load.reference,
            applied_at=load.applied_at,
            reversed_at=load.reversed_at,
        )
