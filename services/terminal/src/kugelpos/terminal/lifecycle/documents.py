"""Cash and open/close logs (`log_cash_in_out`, `log_open_close`); each is published as an
event through the outbox in the transaction that writes it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..money import Money, StoredDocument


class EventType(StrEnum):
    CASH_IN_OUT = "cash_in_out"
    OPEN = "open"
    CLOSE = "close"


class CashKind(StrEnum):
    FLOAT = "float"  # the opening float (initial amount)
    IN = "in"
    OUT = "out"


class TerminalLog(StoredDocument):
    event_id: str
    tenant_id: str
    store_code: str
    store_name: str
    terminal_no: int
    terminal_id: str
    staff_id: str | None = None
    staff_name: str | None = None
    business_date: str
    open_counter: int
    business_counter: int
    generate_date_time: str
    receipt_text: str = ""
    journal_text: str = ""

    def event(self, event_type: EventType) -> dict[str, Any]:
        """The published body: the log in snake_case plus `event_id` and `event_type`."""
        return {**self.model_dump(mode="json"), "event_type": event_type.value}

    def event_keys(self) -> dict[str, Any]:
        return {
            "store_code": self.store_code,
            "terminal_no": self.terminal_no,
            "terminal_id": self.terminal_id,
            "business_date": self.business_date,
            "open_counter": self.open_counter,
        }


class CashLogDocument(TerminalLog):
    kind: CashKind
    amount: Money
    description: str = ""
    # A move the till made offline, uploaded later: its id on the till (one upload, once).
    offline_id: str | None = None


class OpenCloseLogDocument(TerminalLog):
    operation: str  # "open" | "close"
    terminal_info: dict[str, Any]
    initial_amount: Money | None = None
    physical_amount: Money | None = None
    cash_in_out_count: int | None = None
    cash_in_out_last_datetime: str | None = None
    cash_in_amount: Money | None = None
    cash_out_amount: Money | None = None
    cart_transaction_count: int | None = None
    cart_transaction_last_no: int | None = None
    cash_sales_amount: Money | None = None
    expected_amount: Money | None = None
    difference_amount: Money | None = None
    # A close the till took offline and uploaded: the transaction count and last number are
    # the till's own, the report waits for that many sales.
    offline: bool | None = None
