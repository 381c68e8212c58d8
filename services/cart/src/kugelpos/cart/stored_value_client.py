"""The cart's calls to the stored-value service (issue 26), as itself (its service token of
the tenant, commons `ServiceCaller`): loads registered for card lines and refunds to store
credit, holds placed for card payments and released when they are taken back, credit cards
issued, a load read back before a void.

Numbers travel whole only here, over HTTP to the service that keeps them; the cart keeps and
logs them masked. A refusal of the card (unknown, wrong PIN, not enough balance, blocked) is
passed to the till with the stored-value service's own code and message; every call is safe
to repeat (hold and load ids are the caller's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.errors import AppError, ExternalServiceError

from .errors import StoredValueRefusedError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Where:
    """The till a movement comes from, and the cart that asked."""

    cart_id: str
    store_code: str
    terminal_no: int


class StoredValueClient:
    def __init__(self, http: HttpClientHelper, codec: TokenCodec, *, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self._caller = ServiceCaller(http, codec, service="cart")

    def _tenant(self, tenant_id: str) -> str:
        return f"{self._base}/tenants/{tenant_id}"

    async def register_load(
        self, tenant_id: str, card_no: str, amount: int, *, kind: str, load_id: str, at: Where
    ) -> dict[str, Any]:
        return await self._post(
            f"{self._tenant(tenant_id)}/cards/{card_no}/loads",
            tenant_id,
            {
                "amount": amount,
                "kind": kind,
                "loadId": load_id,
                "reference": at.cart_id,
                "storeCode": at.store_code,
                "terminalNo": at.terminal_no,
            },
        )

    async def place_hold(
        self,
        tenant_id: str,
        card_no: str,
        amount: int,
        *,
        pin: str | None,
        hold_id: str,
        at: Where,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "amount": amount,
            "holdId": hold_id,
            "reference": at.cart_id,
            "storeCode": at.store_code,
            "terminalNo": at.terminal_no,
        }
        if pin:
            body["pin"] = pin
        return await self._post(f"{self._tenant(tenant_id)}/cards/{card_no}/holds", tenant_id, body)

    async def release_quietly(self, tenant_id: str, hold_ids: list[str]) -> None:
        """Give holds back (a payment taken back, a request that failed after placing them).
        Best effort: a hold not released here is released by the service when its time is up,
        or by the cancelled sale's log."""
        for hold_id in hold_ids:
            try:
                await self._post(
                    f"{self._tenant(tenant_id)}/holds/{hold_id}/release", tenant_id, {}
                )
            except AppError as exc:
                log.warning("hold_not_released", hold_id=hold_id, error=type(exc).__name__)

    async def issue_credit_card(self, tenant_id: str) -> str:
        """A new store-credit card (inactive until its refund is applied): its whole number."""
        data = await self._post(
            f"{self._tenant(tenant_id)}/cards", tenant_id, {"kind": "credit", "count": 1}
        )
        return str(data[0]["cardNo"])

    async def load(self, tenant_id: str, load_id: str) -> dict[str, Any] | None:
        return await self._caller.get_data(f"{self._tenant(tenant_id)}/loads/{load_id}", tenant_id)

    async def _post(self, url: str, tenant_id: str, body: Any) -> Any:
        self._caller.calls += 1
        response = await self._caller.http.post(
            url, json=body, headers=self._caller.headers(tenant_id)
        )
        if response.is_success:
            return response.json().get("data")
        try:
            envelope = response.json()
            error = envelope.get("userError") or {}
            code, message = str(error.get("code") or ""), str(envelope.get("message") or "")
        except (ValueError, AttributeError):
            code, message = "", ""
        if 400 <= response.status_code < 500 and response.status_code not in (401, 403) and code:
            raise StoredValueRefusedError(message, code=code, status=response.status_code)
        log.warning("stored_value_call_failed", url=url, status=response.status_code)
        raise ExternalServiceError(
            f"stored-value answered {response.status_code}",
            details={"status": response.status_code},
        )
