"""Transaction type codes and the till session, shared by every service that writes or reads
transaction logs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any


class TransactionType(IntEnum):
    NORMAL_SALES = 101
    NORMAL_SALES_CANCEL = -101
    RETURN_SALES = 102
    VOID_SALES = 201
    VOID_RETURN = 202
    OPEN = 301
    CLOSE = 302
    CASH_IN = 401
    CASH_OUT = 402
    FLASH_REPORT = 501
    DAILY_REPORT = 502


@dataclass(frozen=True, slots=True)
class TillSession:
    """One opening of a till (its `open_counter` on a business date): what every log and
    transaction of that session carries, and so how they are found."""

    tenant_id: str
    store_code: str
    terminal_no: int
    business_date: str
    open_counter: int

    def query(self) -> dict[str, Any]:
        """The MongoDB filter of the session's records (each field at the top level)."""
        return asdict(self)
