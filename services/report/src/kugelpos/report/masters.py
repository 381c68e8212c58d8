"""Names from master data (categories, items, payments), cached per tenant.

`GET {master-data}/tenants/{t}/{categories|items|payments}` with a report service JWT; a
failing call gives no names (the report falls back to the line's description or the code)
and is not cached, so the next report tries again.
"""

from __future__ import annotations

from typing import Any

import structlog

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.cache import TTLCache
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import AppError

log = structlog.get_logger(__name__)

_CODE_FIELD = {"categories": "categoryCode", "items": "itemCode", "payments": "paymentCode"}
PAGE = 1000


class MasterNames:
    def __init__(
        self, http: HttpClientHelper, codec: TokenCodec, base_url: str, ttl: float
    ) -> None:
        self._http = http
        self._codec = codec
        self._base = base_url.rstrip("/")
        self._cache: TTLCache[tuple[str, str], dict[str, str]] = TTLCache(ttl=ttl)

    async def names(self, tenant_id: str, kind: str) -> dict[str, str]:
        key = (tenant_id, kind)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            names = await self._fetch(tenant_id, kind)
        except AppError as exc:
            log.warning("master_names_unavailable", kind=kind, error=exc.message)
            return {}
        self._cache.set(key, names)
        return names

    async def _fetch(self, tenant_id: str, kind: str) -> dict[str, str]:
        token = self._codec.issue_service_token(service="report", tenant_id=tenant_id)
        headers = {"Authorization": f"Bearer {token}", "X-Tenant-ID": tenant_id}
        names: dict[str, str] = {}
        field = _CODE_FIELD[kind]
        for page in range(1, 51):
            r = await self._http.get(
                f"{self._base}/tenants/{tenant_id}/{kind}",
                params={"limit": PAGE, "page": page},
                headers=headers,
            )
            if not r.is_success:
                return names
            rows: list[dict[str, Any]] = r.json().get("data") or []
            for row in rows:
                code = row.get(field) or row.get(field.replace("Code", "_code"))
                name = row.get("description") or row.get("itemName")
                if code and name:
                    names[str(code)] = str(name)
            if len(rows) < PAGE:
                break
        return names
