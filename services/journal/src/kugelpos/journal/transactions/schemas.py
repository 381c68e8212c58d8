"""API models of the direct transaction intake (§2.5 (7))."""

from __future__ import annotations

from kugelpos.common.schemas import ApiModel


class TranResponse(ApiModel):
    tenant_id: str
    store_code: str
    terminal_no: int
    transaction_no: int
