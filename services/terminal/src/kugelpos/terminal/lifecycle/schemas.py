"""API models of the lifecycle operations (v1 contract plus the product's additions)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from kugelpos.common.schemas import ApiModel

from ..money import ZERO, AmountIn, Money
from ..terminals.schemas import Terminal
from .documents import CashLogDocument, OpenCloseLogDocument

StaffId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Pin = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=200)]
NonNegative = Annotated[AmountIn, Field(ge=0)]
Positive = Annotated[AmountIn, Field(gt=0)]


class TerminalSignInRequest(ApiModel):
    staff_id: StaffId
    # Required when the staff member has a PIN in master-data; never stored or echoed.
    pin: Pin | None = Field(default=None, repr=False)


class TerminalOpenRequest(ApiModel):
    initial_amount: NonNegative | None = None


class TerminalCloseRequest(ApiModel):
    physical_amount: NonNegative | None = None


class CashInOutRequest(ApiModel):
    """`cash-in` / `cash-out`: a positive amount; the path says the direction."""

    amount: Positive
    description: Text | None = None


class CashDirection(StrEnum):
    IN = "in"
    OUT = "out"


class CashMovementRequest(ApiModel):
    """`POST /terminals/cash-in-out`: a signed amount (positive in, negative out), or a
    positive amount with an explicit direction."""

    amount: AmountIn
    direction: CashDirection | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> CashMovementRequest:
        if self.amount == ZERO:
            raise ValueError("amount must not be zero")
        if self.direction is not None and self.amount < ZERO:
            raise ValueError("with a direction, the amount must be positive")
        return self

    def signed(self) -> Decimal:
        return -self.amount if self.direction is CashDirection.OUT else self.amount


class TerminalOpenResponse(ApiModel):
    terminal_id: str
    business_date: str
    open_counter: int
    business_counter: int
    initial_amount: Money | None = None
    terminal_info: Terminal
    receipt_text: str
    journal_text: str
    event_id: str | None = None

    @classmethod
    def of(cls, terminal: Terminal, entry: OpenCloseLogDocument) -> TerminalOpenResponse:
        return cls(
            terminal_id=entry.terminal_id,
            business_date=entry.business_date,
            open_counter=entry.open_counter,
            business_counter=entry.business_counter,
            initial_amount=entry.initial_amount,
            terminal_info=terminal,
            receipt_text=entry.receipt_text,
            journal_text=entry.journal_text,
            event_id=entry.event_id,
        )


class TerminalCloseResponse(TerminalOpenResponse):
    physical_amount: Money | None = None
    cash_in_amount: Money | None = None
    cash_out_amount: Money | None = None
    cash_sales_amount: Money | None = None
    expected_amount: Money | None = None
    difference_amount: Money | None = None
    cart_transaction_count: int | None = None

    @classmethod
    def of(cls, terminal: Terminal, entry: OpenCloseLogDocument) -> TerminalCloseResponse:
        base = TerminalOpenResponse.of(terminal, entry).model_dump(by_alias=False)
        base.pop("terminal_info")
        return cls(
            **base,
            terminal_info=terminal,
            physical_amount=entry.physical_amount,
            cash_in_amount=entry.cash_in_amount,
            cash_out_amount=entry.cash_out_amount,
            cash_sales_amount=entry.cash_sales_amount,
            expected_amount=entry.expected_amount,
            difference_amount=entry.difference_amount,
            cart_transaction_count=entry.cart_transaction_count,
        )


class CashInOutResponse(ApiModel):
    terminal_id: str
    amount: Money
    description: str
    receipt_text: str
    journal_text: str
    event_id: str | None = None

    @classmethod
    def of(cls, entry: CashLogDocument) -> CashInOutResponse:
        return cls(
            terminal_id=entry.terminal_id,
            amount=entry.amount,
            description=entry.description,
            receipt_text=entry.receipt_text,
            journal_text=entry.journal_text,
            event_id=entry.event_id,
        )


# ---- a session carried on offline (docs/offline.md) ---------------------------------------------

OfflineId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
BusinessDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]


class OfflineCashMoveRequest(ApiModel):
    """A cash move the till made offline: signed amount (positive in, negative out)."""

    offline_id: OfflineId
    amount: AmountIn
    description: Text | None = None
    generate_date_time: datetime

    @model_validator(mode="after")
    def _check(self) -> OfflineCashMoveRequest:
        if self.amount == ZERO:
            raise ValueError("amount must not be zero")
        return self


class OfflineCloseRequest(ApiModel):
    """The close the till took offline, with its own count of the session's sales (online and
    offline) and the highest transaction number among them."""

    physical_amount: NonNegative | None = None
    transaction_count: Annotated[int, Field(ge=0)]
    last_transaction_no: Annotated[int, Field(ge=1)] | None = None
    generate_date_time: datetime


class OfflineSessionRequest(ApiModel):
    business_date: BusinessDate
    open_counter: Annotated[int, Field(ge=1)]
    cash_moves: Annotated[list[OfflineCashMoveRequest], Field(max_length=500)] = []
    close: OfflineCloseRequest | None = None

    @model_validator(mode="after")
    def _check(self) -> OfflineSessionRequest:
        ids = [m.offline_id for m in self.cash_moves]
        if len(ids) != len(set(ids)):
            raise ValueError("each cash move needs its own offlineId")
        return self


class OfflineCashMoveResult(ApiModel):
    offline_id: str
    status: str


class OfflineSessionResponse(ApiModel):
    terminal_id: str
    business_date: str
    open_counter: int
    status: str  # the terminal's status after the upload
    cash_moves: list[OfflineCashMoveResult]
    close_status: str | None = None  # accepted | duplicate | None (no close uploaded)
    close: TerminalCloseResponse | None = None
