"""Cart service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from pydantic import Field

from kugelpos.common.events.config import OutboxSettings

TOPIC_TRANLOG = "tranlog_report"
TOPIC_OPENCLOSELOG = "opencloselog_report"
DEFAULT_PLUGINS_FILE = Path(__file__).parent / "plugins" / "plugins.json"


class CartSettings(OutboxSettings):
    service_name: str = "cart"
    db_name_prefix: str = "db_cart"

    # Active carts: Dapr state store, optimistic concurrency by ETag, expire after 10 h.
    cart_store: str = "cartstore"
    cart_ttl_seconds: int = 36_000
    # Terminal info: in-process for a few seconds, then the shared `terminalstore`, then the
    # terminal service. Open/close events drop a terminal's entries at once.
    terminal_store: str = "terminalstore"
    terminal_cache_ttl_seconds: int = 60
    terminal_local_cache_seconds: float = 5.0
    # Master data read from master-data (its reads are cached there too): items, payments,
    # taxes, parameters, promotions, store names.
    master_cache_ttl_seconds: float = 10.0
    master_cache_max_entries: int = 20_000
    # While master-data cannot answer, reads made before are served from their last good
    # answer up to this age (the till keeps selling); older or never-made reads answer 503.
    master_stale_max_age_seconds: float = 3600.0
    # Idempotency-Key records of terminal POSTs.

    # Who must acknowledge a tranlog before it counts as delivered.
    tranlog_consumers: str = "report,journal,stock"
    # Plugin registry (payment, sales promotion, receipt); default: the packaged file.
    plugins_file: Path = DEFAULT_PLUGINS_FILE

    # Calculation and numbering defaults (settings master values win when present).
    round_method_for_discount: str = "Round"
    receipt_no_start_value: int = 111_111
    receipt_no_end_value: int = 999_999
    max_line_items: int = 500
    max_request_entries: int = 100
    # Cash ceilings when the parameter master names none (CASH_TENDER_LIMIT, CASH_CHANGE_LIMIT;
    # payments/limits.py): one cash tender, and the change, in the API's amount unit; 0: none.
    cash_tender_limit: Decimal = Field(default=Decimal(1_000_000), ge=0)
    cash_change_limit: Decimal = Field(default=Decimal(100_000), ge=0)
    # The most a blind return (no receipt, issue 25) may refund with tax when the parameter
    # master names no BLIND_RETURN_LIMIT; 0: none.
    blind_return_limit: Decimal = Field(default=Decimal(30_000), ge=0)
    receipt_width: int = 32

    @property
    def event_consumers(self) -> dict[str, list[str]]:
        return {TOPIC_TRANLOG: self.names(self.tranlog_consumers)}


@cache
def get_settings() -> CartSettings:
    return CartSettings()
