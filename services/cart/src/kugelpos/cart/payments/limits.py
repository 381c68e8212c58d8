"""Cash ceilings: the most one cash tender may be, and the most change a sale may give.

Per tenant (and, as every parameter, per store or terminal) through master-data's parameter
master (v1: settings master):
`CASH_TENDER_LIMIT` and `CASH_CHANGE_LIMIT`, amounts in the unit the API's amounts use (for
yen, whole yen, which is also its minor unit). `0` turns a ceiling off; a value that is not a
non-negative number is ignored (the default applies). Defaults (`CartSettings`): 1,000,000 for a
tender (a hundred 10,000-yen notes) and 100,000 for the change (ten notes: more is a mistyped
amount or a drawer being emptied through a sale).

The values are resolved into the cart's parameter snapshot at creation, with the others, so a
payment reads them from the cart it already loaded: no call and no lookup on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..master_data_client import parameter_amount

CASH_TENDER_LIMIT = "CASH_TENDER_LIMIT"
CASH_CHANGE_LIMIT = "CASH_CHANGE_LIMIT"
CASH_LIMIT_PARAMETERS = (CASH_TENDER_LIMIT, CASH_CHANGE_LIMIT)


@dataclass(frozen=True, slots=True)
class CashLimits:
    """Ceilings of one cash tender and of the change; 0 means none."""

    tender: Decimal = Decimal(0)
    change: Decimal = Decimal(0)


def cash_limits(parameters: Mapping[str, str | None], defaults: CashLimits) -> CashLimits:
    """The ceilings of a cart: its parameter snapshot where it names them, else the defaults."""
    tender = parameter_amount(parameters.get(CASH_TENDER_LIMIT))
    change = parameter_amount(parameters.get(CASH_CHANGE_LIMIT))
    return CashLimits(
        tender=defaults.tender if tender is None else tender,
        change=defaults.change if change is None else change,
    )
