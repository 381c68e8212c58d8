"""API model of a tax (the configured entries are `config.TaxEntry`)."""

from __future__ import annotations

from ..config import TaxEntry
from ..schemas import Number, TimestampedResponse


class TaxMasterResponse(TimestampedResponse):
    tax_code: str
    tax_type: str
    tax_name: str
    rate: Number
    round_digit: int
    round_method: str | None = None

    @classmethod
    def of(cls, entry: TaxEntry) -> TaxMasterResponse:
        return cls(
            tax_code=entry.tax_code,
            tax_type=entry.tax_type.value,
            tax_name=entry.tax_name,
            rate=entry.rate,
            round_digit=entry.round_digit,
            round_method=entry.round_method.value if entry.round_method else None,
        )
