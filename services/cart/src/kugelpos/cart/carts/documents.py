"""The stored cart: the domain cart plus what was captured at creation (terminal session and
master snapshots), kept as JSON in the Dapr state store `cartstore`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kugelpos.common.clock import utcnow

from ..domain.masters import TaxMaster
from ..domain.models import Cart


class CartMasters(BaseModel):
    """Snapshots taken at cart creation (spec §15.4/15.5, plus promotions, so that adding an
    item needs no master call besides the item itself)."""

    model_config = ConfigDict(extra="ignore")

    taxes: list[TaxMaster] = Field(default_factory=list)
    # Resolved parameter values by name (RECEIPT_HEADERS, RECEIPT_NO_START_VALUE, ...), from
    # master-data's parameter master (v1: settings master).
    parameters: dict[str, str | None] = Field(default_factory=dict)
    # Sales-promotion plugin name -> its snapshot.
    promotions: dict[str, Any] = Field(default_factory=dict)


class CartDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cart: Cart
    terminal_id: str
    open_counter: int = 0
    business_counter: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime | None = None
    masters: CartMasters = Field(default_factory=CartMasters)

    def with_cart(self, cart: Cart) -> CartDocument:
        return self.model_copy(update={"cart": cart, "updated_at": utcnow()})

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
