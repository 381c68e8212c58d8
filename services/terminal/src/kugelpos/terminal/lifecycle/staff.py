"""Staff look-ups in master-data, with a short-lived service token of the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import AppError, TooManyAttemptsError

from ..config import TerminalSettings
from ..errors import MasterDataError, StaffNotFoundError

SERVICE = "terminal"


@dataclass(frozen=True, slots=True)
class StaffRecord:
    staff_id: str
    name: str
    has_pin: bool


def _field(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


class StaffDirectory:
    def __init__(
        self, http: HttpClientHelper, codec: TokenCodec, settings: TerminalSettings
    ) -> None:
        self._http = http
        self._codec = codec
        self._settings = settings

    def _url(self, tenant_id: str, staff_id: str, suffix: str = "") -> str:
        base = self._settings.base_url("master-data")
        return (
            f"{base}/tenants/{quote(tenant_id, safe='')}/staff/{quote(staff_id, safe='')}{suffix}"
        )

    def _headers(self, tenant_id: str) -> dict[str, str]:
        token = self._codec.issue_service_token(service=SERVICE, tenant_id=tenant_id)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, tenant_id: str, staff_id: str) -> StaffRecord:
        try:
            response = await self._http.get(
                self._url(tenant_id, staff_id), headers=self._headers(tenant_id)
            )
        except AppError as exc:
            raise MasterDataError(f"Master-data unavailable: {exc.message}") from exc
        if response.status_code == 404:
            raise StaffNotFoundError(f"Staff {staff_id} not found")
        if not response.is_success:
            raise MasterDataError(f"Master-data answered {response.status_code} for staff")
        data = (response.json() or {}).get("data") or {}
        has_pin = _field(data, "hasPin", "has_pin")
        if has_pin is None:  # an older master-data that still returns the PIN itself
            has_pin = bool(_field(data, "pin", "staffPin"))
        return StaffRecord(
            staff_id=str(_field(data, "id", "staffId", "staff_id") or staff_id),
            name=str(_field(data, "name", "staffName", "staff_name") or ""),
            has_pin=bool(has_pin),
        )

    async def verify_pin(self, tenant_id: str, staff_id: str, pin: str) -> bool:
        try:
            response = await self._http.post(
                self._url(tenant_id, staff_id, "/verify-pin"),
                json={"pin": pin},
                headers=self._headers(tenant_id),
                retry=False,
            )
        except AppError as exc:
            raise MasterDataError(f"Master-data unavailable: {exc.message}") from exc
        if response.status_code == 404:
            raise StaffNotFoundError(f"Staff {staff_id} not found")
        if response.status_code == 429:
            raise TooManyAttemptsError("Too many failed PIN attempts; try again later")
        if not response.is_success:
            raise MasterDataError(f"Master-data answered {response.status_code} for a PIN check")
        data = (response.json() or {}).get("data") or {}
        return data.get("valid") is True
