"""API models of journal entries (JournalSchema of the contract, §2.6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from kugelpos.common.money import ZERO, amount_in, json_number
from kugelpos.common.schemas import ApiModel, TenantId
from kugelpos.common.transactions import TransactionType

from .documents import JournalDocument

# What v1 answers in `content`: the text itself is in journalText / receiptText.
CONTENT = "please refer to receipt_text field"
_KNOWN_TYPES = frozenset(int(t) for t in TransactionType)
_MAX_TEXT = 256 * 1024

Amount = amount_in(4)


class JournalSchema(ApiModel):
    """Request of `POST …/journals` (camelCase or snake_case) and item of the search."""

    tenant_id: TenantId
    store_code: str = Field(min_length=1, max_length=64)
    terminal_no: int = Field(ge=0, le=2**31 - 1)
    journal_seq_no: int | None = -1
    transaction_no: int | None = Field(default=None, ge=0, le=2**63 - 1)
    transaction_type: int
    business_date: str = Field(pattern=r"^\d{8}$")
    open_counter: int = Field(ge=0, le=2**31 - 1)
    business_counter: int = Field(ge=0, le=2**31 - 1)
    generate_date_time: str = Field(min_length=1, max_length=64)
    receipt_no: int | None = Field(default=None, ge=0, le=2**63 - 1)
    amount: Amount | None = ZERO  # type: ignore[valid-type]
    quantity: int | None = Field(default=0, ge=-(2**31), le=2**31 - 1)
    staff_id: str | None = Field(default=None, max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    content: str | None = CONTENT
    journal_text: str = Field(max_length=_MAX_TEXT)
    receipt_text: str = Field(max_length=_MAX_TEXT)

    @field_validator("transaction_type")
    @classmethod
    def _known_type(cls, value: int) -> int:
        if value not in _KNOWN_TYPES:
            known = ", ".join(str(t) for t in sorted(_KNOWN_TYPES))
            raise ValueError(f"unknown transaction type {value}; one of {known}")
        return value

    def to_document(self, actor: str | None) -> JournalDocument:
        # journalSeqNo and content are v1 decoration, never stored.
        return JournalDocument(
            tenant_id=self.tenant_id,
            store_code=self.store_code,
            terminal_no=self.terminal_no,
            transaction_no=self.transaction_no,
            transaction_type=self.transaction_type,
            business_date=self.business_date,
            open_counter=self.open_counter,
            business_counter=self.business_counter,
            generate_date_time=self.generate_date_time,
            receipt_no=self.receipt_no,
            amount=self.amount if self.amount is not None else ZERO,
            quantity=self.quantity or 0,
            staff_id=self.staff_id,
            user_id=self.user_id,
            journal_text=self.journal_text,
            receipt_text=self.receipt_text,
            created_by=actor,
        )

    @classmethod
    def of(cls, doc: JournalDocument) -> JournalSchema:
        return cls.model_construct(
            tenant_id=doc.tenant_id,
            store_code=doc.store_code,
            terminal_no=doc.terminal_no,
            journal_seq_no=-1,
            transaction_no=doc.transaction_no,
            transaction_type=doc.transaction_type,
            business_date=doc.business_date,
            open_counter=doc.open_counter,
            business_counter=doc.business_counter,
            generate_date_time=doc.generate_date_time,
            receipt_no=doc.receipt_no,
            amount=doc.amount,
            quantity=doc.quantity,
            staff_id=doc.staff_id,
            user_id=doc.user_id,
            content=CONTENT,
            journal_text=doc.journal_text,
            receipt_text=doc.receipt_text,
        )

    def snake_case(self) -> dict[str, Any]:
        """v1 answers `POST …/journals` in snake_case (§2.5 (5), kept for compatibility)."""
        data = self.model_dump(mode="json", by_alias=False)
        if isinstance(self.amount, Decimal):
            data["amount"] = json_number(self.amount)
        return data
