"""The stored journal entry (report-journal-events §2.2), snake_case in `journal`."""

from __future__ import annotations

from kugelpos.common.money import ZERO, Money, MoneyDocument


class JournalDocument(MoneyDocument):
    tenant_id: str
    store_code: str
    terminal_no: int
    transaction_no: int | None = None
    transaction_type: int
    business_date: str
    open_counter: int = 0
    business_counter: int = 0
    receipt_no: int | None = None
    amount: Money = ZERO
    quantity: int = 0
    staff_id: str | None = None
    user_id: str | None = None
    generate_date_time: str
    journal_text: str = ""
    receipt_text: str = ""
    shard_key: str | None = None

    def model_post_init(self, _context: object) -> None:
        if self.shard_key is None:
            self.shard_key = (
                f"{self.tenant_id}_{self.store_code}_{self.terminal_no}_{self.business_date}"
            )

    def natural_key(self) -> dict[str, object]:
        """Unique per entry (§1.7): one entry per terminal, type and moment."""
        return {
            "tenant_id": self.tenant_id,
            "store_code": self.store_code,
            "terminal_no": self.terminal_no,
            "transaction_type": self.transaction_type,
            "generate_date_time": self.generate_date_time,
        }
