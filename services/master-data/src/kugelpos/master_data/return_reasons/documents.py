"""How a return reason is stored in `master_return_reason`."""

from __future__ import annotations

from ..documents import MasterDocument


class ReturnReasonDocument(MasterDocument):
    reason_code: str
    description: str
    restock: bool
    requires_approval: bool = False
