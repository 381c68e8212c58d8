"""Taxes are configuration, parsed and validated once at start-up: no I/O, nothing to cache."""

from __future__ import annotations

from kugelpos.common.errors import NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..config import MasterDataSettings, TaxEntry


class TaxService:
    def __init__(self, settings: MasterDataSettings) -> None:
        self._settings = settings

    def list(self, tenant_id: str, params: PageParams) -> Page[TaxEntry]:
        entries = list(self._settings.taxes_for(tenant_id))
        # Stable sorts applied last key first give a multi-key sort; no sort keeps the
        # configured order.
        for field_name, direction in reversed(params.sort):
            entries.sort(key=lambda e, f=field_name: _sort_key(e, f), reverse=direction < 0)
        total = len(entries)
        if params.limit:
            entries = entries[params.skip : params.skip + params.limit]
        return Page(items=entries, total=total, params=params)

    def get(self, tenant_id: str, tax_code: str) -> TaxEntry:
        for entry in self._settings.taxes_for(tenant_id):
            if entry.tax_code == tax_code:
                return entry
        raise NotFoundError(f"Tax {tax_code} not found")


def _sort_key(entry: TaxEntry, field_name: str) -> tuple[int, object]:
    value = getattr(entry, field_name, None)
    return (0, "") if value is None else (1, value)
