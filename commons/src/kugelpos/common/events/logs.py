"""What consumers receive on the three log topics, as the publishers (cart, terminal) send it.

The models check what every consumer relies on (who, where, which log) and keep every other
key as it came (`extra="allow"`), so a consumer stores the raw log unchanged and reads the parts
it needs. Each log has a natural key: the inbox refuses the same log twice under two event ids.
Sign convention: returns and voids carry positive amounts; consumers apply the sign from
`transaction_type`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import TenantId
from ..transactions import TransactionType

TOPIC_TRANLOG = "tranlog_report"
TOPIC_CASHLOG = "cashlog_report"
TOPIC_OPENCLOSELOG = "opencloselog_report"

# Keys the publisher adds to the message that are not part of the log itself.
ENVELOPE_KEYS = frozenset({"event_id", "event_type"})

_CODE = Field(min_length=1, max_length=64)
_DATE = Field(pattern=r"^\d{8}$")


class InboundLog(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    tenant_id: TenantId
    store_code: str = _CODE
    store_name: str | None = None
    terminal_no: int = Field(ge=0)
    business_date: str = _DATE
    open_counter: int = 0
    business_counter: int = 0
    generate_date_time: str = Field(min_length=1, max_length=64)
    receipt_text: str | None = ""
    journal_text: str | None = ""

    def raw(self) -> dict[str, Any]:
        """The log as sent, without the envelope keys (what a consumer stores)."""
        data = self.model_dump(mode="json")
        return {k: v for k, v in data.items() if k not in ENVELOPE_KEYS}

    def natural_key(self) -> str:
        raise NotImplementedError


class Person(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    name: str | None = None


class TransactionLog(InboundLog):
    """`tranlog_report`: a sale, cancelled sale (101 + `sales.is_cancelled`), return or void."""

    transaction_no: int = Field(ge=0)
    transaction_type: int
    receipt_no: int | None = None
    sales: dict[str, Any] = Field(default_factory=dict)
    line_items: list[dict[str, Any]] = Field(default_factory=list)
    payments: list[dict[str, Any]] = Field(default_factory=list)
    user: Person | None = None
    staff: Person | None = None

    def natural_key(self) -> str:
        return f"{self.store_code}:{self.terminal_no}:{self.transaction_no}"

    @property
    def is_cancelled(self) -> bool:
        return bool(self.sales.get("is_cancelled"))

    @property
    def journal_type(self) -> int:
        """The journal's code: a cancelled sale is -101 (spec §2.3)."""
        if self.transaction_type == TransactionType.NORMAL_SALES and self.is_cancelled:
            return int(TransactionType.NORMAL_SALES_CANCEL)
        return self.transaction_type


class CashLog(InboundLog):
    """`cashlog_report`: a cash movement; > 0 in, < 0 out (the opening float is an entry in)."""

    amount: float | None = 0.0
    description: str | None = None
    staff_id: str | None = None
    staff_name: str | None = None

    def natural_key(self) -> str:
        return (
            f"{self.store_code}:{self.terminal_no}:{self.business_date}:"
            f"{self.open_counter}:{self.generate_date_time}"
        )


class OpenCloseLog(InboundLog):
    """`opencloselog_report`: a terminal open or close."""

    operation: str = Field(pattern=r"^(open|close)$")
    staff_id: str | None = None
    staff_name: str | None = None
    terminal_info: dict[str, Any] = Field(default_factory=dict)

    def natural_key(self) -> str:
        return (
            f"{self.store_code}:{self.terminal_no}:{self.business_date}:"
            f"{self.open_counter}:{self.operation}"
        )


# The three log topics, the model each is read into and the route the v1 contracts give it.
LOG_TOPICS: tuple[tuple[str, type[InboundLog], str], ...] = (
    (TOPIC_TRANLOG, TransactionLog, "/api/v1/tranlog"),
    (TOPIC_CASHLOG, CashLog, "/api/v1/cashlog"),
    (TOPIC_OPENCLOSELOG, OpenCloseLog, "/api/v1/opencloselog"),
)
