"""How terminals are stored: `db_terminal_<tenant>.info_terminal`, plus the API-key index
`db_terminal_commons.terminal_keys` (hash → terminal) used when a key comes without an id."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from kugelpos.common.db.documents import Document

from ..money import Money, StoredDocument


class TerminalStatus(StrEnum):
    IDLE = "Idle"
    OPENED = "Opened"
    CLOSED = "Closed"


class FunctionMode(StrEnum):
    MAIN_MENU = "MainMenu"
    OPEN_TERMINAL = "OpenTerminal"
    SALES = "Sales"
    RETURNS = "Returns"
    VOID = "Void"
    REPORTS = "Reports"
    CLOSE_TERMINAL = "CloseTerminal"
    JOURNAL = "Journal"
    MAINTENANCE = "Maintenance"
    CASH_IN_OUT = "CashInOut"


# Modes that only make sense while the terminal is open / closed.
MODES_NEEDING_OPEN = frozenset(
    {
        FunctionMode.SALES,
        FunctionMode.RETURNS,
        FunctionMode.VOID,
        FunctionMode.CLOSE_TERMINAL,
        FunctionMode.CASH_IN_OUT,
    }
)
MODES_NEEDING_NOT_OPEN = frozenset({FunctionMode.OPEN_TERMINAL})


class StaffInfo(BaseModel):
    """The signed-in staff member; never the PIN."""

    staff_id: str
    staff_name: str


class TerminalDocument(StoredDocument):
    tenant_id: str
    store_code: str
    terminal_no: int
    terminal_id: str
    description: str = ""
    function_mode: FunctionMode = FunctionMode.MAIN_MENU
    status: TerminalStatus = TerminalStatus.IDLE
    business_date: str | None = None
    open_counter: int = 0
    business_counter: int = 0
    staff: StaffInfo | None = None
    initial_amount: Money | None = None
    physical_amount: Money | None = None
    api_key_hash: str
    # Raised by every key rotation; terminal JWTs carry the version they were issued under,
    # so a rotation retires the old key's tokens too.
    key_version: int = 0
    tags: list[str] | None = None
    # Cash movements recorded in the current session (touched in each cash transaction so a
    # concurrent close and cash movement conflict instead of both succeeding).
    session_cash_count: int = 0

    def public(self) -> dict:
        """JSON snapshot for logs and events: no key hash."""
        return self.model_dump(mode="json", exclude={"api_key_hash", "session_cash_count"})


class ApiKeyDocument(Document):
    api_key_hash: str
    terminal_id: str
    tenant_id: str


def make_terminal_id(tenant_id: str, store_code: str, terminal_no: int) -> str:
    return f"{tenant_id}-{store_code}-{terminal_no}"


def tenant_of(terminal_id: str) -> str:
    return terminal_id.split("-", 1)[0]
