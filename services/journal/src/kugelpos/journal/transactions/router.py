"""`POST …/terminals/{terminal_no}/transactions`: the commons direct transaction intake route."""

from __future__ import annotations

from kugelpos.common.web.transaction_intake import transaction_intake_router

from ..dependencies import get_transaction_intake

router = transaction_intake_router(get_transaction_intake)
