"""Stored documents of `db_cart_<tenant>`: transaction logs, their void/return status and the
per-terminal counters. A tranlog is stored in the shape it is published in (spec §11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from kugelpos.common.db.documents import Document

# Fields of the stored tranlog that are not part of the published event.
PRIVATE_FIELDS = frozenset(
    {"source_id", "created_at", "updated_at", "created_by", "updated_by", "terminal_id"}
)


class TranlogDocument(Document):
    """`log_tran`: one sale, cancelled sale, return or void."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    store_code: str
    store_name: str | None = None
    terminal_no: int
    terminal_id: str
    transaction_no: int
    transaction_type: int
    receipt_no: int
    business_date: str | None = None
    open_counter: int = 0
    business_counter: int = 0
    generate_date_time: str
    # "cart:<cart id>" for a sale or cancellation (one tranlog per cart, whatever the
    # retries), "<type>:<event id>" for a void or return.
    source_id: str
    event_id: str
    user: dict[str, Any] | None = None
    sales: dict[str, Any]
    line_items: list[dict[str, Any]] = Field(default_factory=list)
    payments: list[dict[str, Any]] = Field(default_factory=list)
    taxes: list[dict[str, Any]] = Field(default_factory=list)
    subtotal_discounts: list[dict[str, Any]] = Field(default_factory=list)
    origin: dict[str, Any] | None = None
    staff: dict[str, Any] | None = None
    receipt_text: str = ""
    journal_text: str = ""
    additional_info: dict[str, Any] = Field(default_factory=dict)
    is_voided: bool = False
    is_refunded: bool = False
    # A return without a receipt (issue 25): type 102 with no origin. Published only when
    # true, so the event of every other transaction keeps v1's shape.
    blind: bool = False
    # A sale made while the till was offline and taken back later (issue 27): source_id
    # "offline:<terminal id>:<offlineId>". Published only when true, as `blind`.
    offline: bool = False

    def payload(self) -> dict[str, Any]:
        """The `tranlog_report` event (snake_case, JSON-ready; `event_id` included)."""
        data = self.model_dump(mode="json", exclude=set(PRIVATE_FIELDS))
        if not self.blind:
            del data["blind"]
        if not self.offline:
            del data["offline"]
        data.update({"shard_key": None, "created_at": None, "updated_at": None, "etag": None})
        return data


class TransactionStatusDocument(Document):
    """`status_tran`: void/return status of an original transaction (spec §13.4)."""

    tenant_id: str
    store_code: str
    terminal_no: int
    transaction_no: int
    is_voided: bool = False
    is_refunded: bool = False
    void_transaction_no: int | None = None
    void_date_time: str | None = None
    void_staff_id: str | None = None
    return_transaction_no: int | None = None
    return_date_time: str | None = None
    return_staff_id: str | None = None
    # Partial returns (issue 25): units of each sale line (key: line number as text) taken
    # back by live returns, their sum, and which returns they are ({terminal_no,
    # transaction_no, payments: [{payment_code, amount}]}); `return_version` changes with
    # every claim and give-back (optimistic claims).
    returned_quantities: dict[str, int] = Field(default_factory=dict)
    returned_units: int = 0
    returns: list[dict[str, Any]] = Field(default_factory=list)
    return_version: int = 0

    def returned(self) -> dict[int, int]:
        return {int(k): v for k, v in self.returned_quantities.items()}


class TerminalCounterDocument(Document):
    """`info_terminal_counter`: raw sequences per terminal (spec §10.2)."""

    terminal_id: str
    count_dic: dict[str, int] = Field(default_factory=dict)
    last_used_at: datetime | None = None
