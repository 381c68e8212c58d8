"""Transaction type codes shared by every service that writes or reads transaction logs."""

from __future__ import annotations

from enum import IntEnum


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
