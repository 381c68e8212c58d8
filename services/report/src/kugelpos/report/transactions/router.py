"""`POST …/terminals/{terminal_no}/transactions`: the commons direct transaction intake route,
with this service's error codes."""

from __future__ import annotations

from kugelpos.common.web.transaction_intake import transaction_intake_router

from ..errors import ReportGenerationError, TransactionConflictError, TransactionValidationError

router = transaction_intake_router(
    invalid=TransactionValidationError,
    not_stored=(ReportGenerationError, "Transaction could not be stored"),
    conflict=TransactionConflictError,
)
