"""API models of terminals (v1 contract; the stored document is in documents.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from kugelpos.common.schemas import ApiModel

from ..money import Money
from ..tenants.schemas import StoreCode, display
from .documents import FunctionMode, TerminalDocument

Description = Annotated[str, StringConstraints(max_length=200)]


class TerminalCreateRequest(ApiModel):
    store_code: StoreCode
    terminal_no: int = Field(ge=1, le=999_999)
    description: Description = ""


class TerminalUpdateRequest(ApiModel):
    description: Description


class UpdateFunctionModeRequest(ApiModel):
    function_mode: FunctionMode


class Staff(ApiModel):
    staff_id: str
    staff_name: str
    # Kept for v1 clients; never filled (the PIN never leaves master-data).
    staff_pin: str | None = None


class Terminal(ApiModel):
    terminal_id: str
    tenant_id: str
    store_code: str
    terminal_no: int
    description: str
    function_mode: str
    status: str
    business_date: str | None = None
    open_counter: int
    business_counter: int
    initial_amount: Money | None = None
    physical_amount: Money | None = None
    staff: Staff | None = None
    # Only in the create / register / regenerate responses; null everywhere else.
    api_key: str | None = None
    entry_datetime: str
    last_update_datetime: str | None = None

    @classmethod
    def of(cls, terminal: TerminalDocument, api_key: str | None = None) -> Terminal:
        return cls(
            terminal_id=terminal.terminal_id,
            tenant_id=terminal.tenant_id,
            store_code=terminal.store_code,
            terminal_no=terminal.terminal_no,
            description=terminal.description,
            function_mode=terminal.function_mode.value,
            status=terminal.status.value,
            business_date=terminal.business_date,
            open_counter=terminal.open_counter,
            business_counter=terminal.business_counter,
            initial_amount=terminal.initial_amount,
            physical_amount=terminal.physical_amount,
            staff=Staff(staff_id=terminal.staff.staff_id, staff_name=terminal.staff.staff_name)
            if terminal.staff
            else None,
            api_key=api_key,
            entry_datetime=display(terminal.created_at) or "",
            last_update_datetime=display(terminal.updated_at),
        )


class TerminalDeleteResponse(ApiModel):
    terminal_id: str
