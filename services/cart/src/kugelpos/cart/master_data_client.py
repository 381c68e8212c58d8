"""The cart's HTTP client of master-data (and of the terminal service, for store names): the
master data a cart needs, read over HTTP behind a read-through cache.

Every read goes through one in-process TTL cache (`MASTER_CACHE_TTL_SECONDS`, default 10 s),
so the hot path calls master-data at most once per item per TTL and never on a hit; master-data
caches the same reads on its side. Calls carry a short-lived service token of the tenant (no
terminal key is forwarded, so master-data never has to ask the terminal service who we are).

What a cart needs at creation (taxes, parameters, active promotions, store name) is snapshot in
the cart (`CartDocument.masters`), so adding an item needs nothing but the item itself.

A till keeps selling when master-data is slow or down: every read also keeps its last good
answer for `MASTER_STALE_MAX_AGE_SECONDS` (default an hour). While master-data cannot answer
(its circuit is open, the call timed out, it answered 5xx), a read the cart has made before is
served from that copy, logged (`master_stale_served`) and counted
(`dependency_fallbacks_total{dependency="master-data"}`); only a read never made before fails
(503). A change notice drops the copy too: an answer known to be outdated is never served.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import structlog

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.cache import TTLCache
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.errors import (
    ExternalServiceError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyAttemptsError,
)
from kugelpos.common.events.changes import ChangeKind, MasterChange

from .domain.masters import ItemMaster, PaymentMaster, TaxMaster
from .domain.models import TaxType
from .errors import ItemNotFoundError
from .pricing.money import ZERO, RoundMethod, to_decimal

log = structlog.get_logger(__name__)

MAX_LIST = 1000
type Key = tuple[str, ...]


def _q(value: str) -> str:
    return quote(value, safe="")


def _decimal(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None:
        return default
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        return default


def item_from_details(data: dict[str, Any]) -> ItemMaster:
    store_price = data.get("storePrice")
    return ItemMaster(
        item_code=str(data["itemCode"]),
        description=str(data.get("description") or ""),
        description_short=data.get("descriptionShort"),
        unit_price=_decimal(data.get("unitPrice")),
        store_price=None if store_price is None else _decimal(store_price),
        category_code=data.get("categoryCode"),
        tax_code=str(data.get("taxCode") or ""),
        is_discount_restricted=bool(data.get("isDiscountRestricted")),
        is_stored_value=bool(data.get("isStoredValue")),
    )


@dataclass(frozen=True, slots=True)
class ItemPrice:
    """An item's unit price for a store (its store price, else its own), and its tax code."""

    price: Decimal
    tax_code: str
    is_stored_value: bool = False  # a gift card / store-credit item


PRICE_LOOKUPS_PER_REQUEST = 1000  # master-data's limit per prices-at/lookups request


@dataclass(frozen=True, slots=True)
class ReturnReason:
    reason_code: str
    restock: bool
    requires_approval: bool


def payment_from_data(data: dict[str, Any]) -> PaymentMaster:
    return PaymentMaster(
        payment_code=str(data["paymentCode"]),
        description=str(data.get("description") or ""),
        limit_amount=_decimal(data.get("limitAmount")),
        can_refund=bool(data.get("canRefund", True)),
        can_deposit_over=bool(data.get("canDepositOver")),
        can_change=bool(data.get("canChange")),
        is_active=bool(data.get("isActive", True)),
    )


def tax_from_data(data: dict[str, Any]) -> TaxMaster:
    method = data.get("roundMethod")
    return TaxMaster(
        tax_code=str(data["taxCode"]),
        tax_type=TaxType(data["taxType"]),
        tax_name=str(data.get("taxName") or ""),
        rate=_decimal(data.get("rate")),
        round_digit=int(data.get("roundDigit") or 0),
        round_method=RoundMethod(method) if method else None,
    )


def _affected_by(change: MasterChange, key: Key) -> bool:
    kind, tenant = key[0], key[1]
    if tenant != change.tenant_id:
        return False
    match change.kind:
        case ChangeKind.ITEM:
            return kind == "item" and key[3] == change.code
        case ChangeKind.STORE_ITEM:
            return kind == "item" and key[2:] == (change.store_code, change.code)
        case ChangeKind.PAYMENT:
            return kind == "payment" and key[2] == change.code
        case ChangeKind.PARAMETER:
            return kind == "parameters"
        case ChangeKind.PROMOTION:
            return kind == "promotions"
        case _:
            return True


class MasterDataClient:
    def __init__(
        self,
        http: HttpClientHelper,
        codec: TokenCodec,
        *,
        base_url_master_data: str,
        base_url_terminal: str,
        ttl: float = 10.0,
        max_entries: int = 20_000,
        stale_max_age: float = 3600.0,
        on_stale: Callable[[str], None] | None = None,
    ) -> None:
        self._http = http
        self._md = base_url_master_data.rstrip("/")
        self._terminal = base_url_terminal.rstrip("/")
        self.cache: TTLCache[Key, Any] = TTLCache(ttl=ttl, max_entries=max_entries)
        # Last good answers, for when master-data cannot answer (see the module docstring).
        self.last_known: TTLCache[Key, Any] = TTLCache(ttl=stale_max_age, max_entries=max_entries)
        self._on_stale = on_stale
        self.stale_served = 0
        # The calls carry the cart's service token of the tenant (commons).
        self._caller = ServiceCaller(http, codec, service="cart")

    def forget(self, change: MasterChange) -> int:
        """Drop what a master-data change can affect (a `masterdata_changed` notice), so the
        next sale reads the new price instead of waiting for the TTL."""
        self.last_known.invalidate_where(lambda key: _affected_by(change, key))
        return self.cache.invalidate_where(lambda key: _affected_by(change, key))

    # ---- plumbing ------------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        return self._caller.calls

    async def _get_data(
        self, url: str, tenant_id: str, params: dict[str, Any] | None = None
    ) -> Any | None:
        """`data` of a success envelope; None on 404; an error for anything else."""
        return await self._caller.get_data(url, tenant_id, params)

    async def _cached[V](self, key: Key, loader: Callable[[], Awaitable[V]]) -> V:
        async def load_and_keep() -> V:
            value = await loader()
            if value is not None:
                self.last_known.set(key, value)
            return value

        try:
            return await self.cache.get_or_load(key, load_and_keep)
        except (ServiceUnavailableError, ExternalServiceError) as exc:
            stale = self.last_known.get(key)
            if stale is None:
                raise
            self.stale_served += 1
            if self._on_stale is not None:
                self._on_stale(key[0])
            log.warning("master_stale_served", read=key[0], error=exc.message)
            return stale

    # ---- reads ---------------------------------------------------------------------------------

    async def item(self, tenant_id: str, store_code: str, item_code: str) -> ItemMaster:
        url = (
            f"{self._md}/tenants/{_q(tenant_id)}/stores/{_q(store_code)}"
            f"/items/{_q(item_code)}/details"
        )

        async def load() -> ItemMaster | None:
            data = await self._get_data(url, tenant_id)
            if not isinstance(data, dict) or data.get("isDeleted"):
                return None
            return item_from_details(data)

        found = await self._cached(("item", tenant_id, store_code, item_code), load)
        if found is None:
            raise ItemNotFoundError(f"Item {item_code} not found")
        return found

    async def payment(self, tenant_id: str, payment_code: str) -> PaymentMaster:
        url = f"{self._md}/tenants/{_q(tenant_id)}/payments/{_q(payment_code)}"

        async def load() -> PaymentMaster | None:
            data = await self._get_data(url, tenant_id)
            return payment_from_data(data) if isinstance(data, dict) else None

        found = await self._cached(("payment", tenant_id, payment_code), load)
        if found is None:
            raise NotFoundError(f"Payment method {payment_code} not found")
        return found

    async def prices_at(
        self, tenant_id: str, store_code: str, lookups: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], ItemPrice | None]:
        """Per (item code, instant), the item's price for the store in force then (None: no
        active item of that code then), for the offline sales' reconciliation (issue 27):
        master-data's change log answers `POST …/items/prices-at/lookups`, up to 1,000 pairs a
        request, so a batch of 500 sales costs a request or two, not one per sale. Never
        cached: a past price does not change, but these reads are rare and batched."""
        asked = sorted(set(lookups))
        url = f"{self._md}/tenants/{_q(tenant_id)}/stores/{_q(store_code)}/items/prices-at/lookups"
        found: dict[tuple[str, str], ItemPrice | None] = {}
        for start in range(0, len(asked), PRICE_LOOKUPS_PER_REQUEST):
            chunk = asked[start : start + PRICE_LOOKUPS_PER_REQUEST]
            body = {"lookups": [{"itemCode": code, "at": at} for code, at in chunk]}
            data = await self._caller.post_data(url, tenant_id, body)
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise ExternalServiceError("master-data answered prices-at without the results")
            for key, result in zip(chunk, results, strict=True):
                known = isinstance(result, dict) and result.get("known")
                found[key] = (
                    ItemPrice(
                        price=_decimal(result.get("price")),
                        tax_code=str(result.get("taxCode") or ""),
                        is_stored_value=bool(result.get("isStoredValue")),
                    )
                    if known
                    else None
                )
        return found

    # ---- returns (not on the sale's hot path: read when a return is taken, not cached) -------

    async def return_reason(self, tenant_id: str, reason_code: str) -> ReturnReason:
        url = f"{self._md}/tenants/{_q(tenant_id)}/return-reasons/{_q(reason_code)}"
        data = await self._get_data(url, tenant_id)
        if not isinstance(data, dict):
            raise NotFoundError(f"Return reason {reason_code} not found")
        return ReturnReason(
            reason_code=str(data.get("reasonCode") or reason_code),
            restock=bool(data.get("restock")),
            requires_approval=bool(data.get("requiresApproval")),
        )

    async def staff_roles(self, tenant_id: str, staff_id: str) -> list[str] | None:
        """The roles of a staff record; None when there is no such staff member."""
        url = f"{self._md}/tenants/{_q(tenant_id)}/staff/{_q(staff_id)}"
        data = await self._get_data(url, tenant_id)
        if not isinstance(data, dict):
            return None
        return [str(r) for r in data.get("roles") or []]

    async def verify_pin(self, tenant_id: str, staff_id: str, pin: str) -> bool:
        """Master-data's PIN check, with its throttle (the one terminal sign-in uses): too
        many wrong PINs in a row is 429 there, TooManyAttemptsError here."""
        url = f"{self._md}/tenants/{_q(tenant_id)}/staff/{_q(staff_id)}/verify-pin"
        self._caller.calls += 1
        response = await self._http.post(
            url, json={"pin": pin}, headers=self._caller.headers(tenant_id), retry=False
        )
        if response.status_code == 404:
            return False
        if response.status_code == 429:
            raise TooManyAttemptsError("Too many failed PIN attempts; try again later")
        if not response.is_success:
            raise ExternalServiceError(
                f"{url} answered {response.status_code}", details={"status": response.status_code}
            )
        return (response.json().get("data") or {}).get("valid") is True

    async def taxes(self, tenant_id: str) -> list[TaxMaster]:
        url = f"{self._md}/tenants/{_q(tenant_id)}/taxes"

        async def load() -> list[TaxMaster]:
            data = await self._get_data(url, tenant_id, {"limit": MAX_LIST})
            return [tax_from_data(d) for d in data or [] if isinstance(d, dict)]

        return await self._cached(("taxes", tenant_id), load)

    async def parameters(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's parameter master (v1: settings master, served at `/settings`)."""
        url = f"{self._md}/tenants/{_q(tenant_id)}/settings"

        async def load() -> list[dict[str, Any]]:
            data = await self._get_data(url, tenant_id, {"limit": MAX_LIST})
            return [d for d in data or [] if isinstance(d, dict)]

        return await self._cached(("parameters", tenant_id), load)

    async def active_promotions(self, tenant_id: str, store_code: str) -> list[dict[str, Any]]:
        url = f"{self._md}/tenants/{_q(tenant_id)}/promotions/active"

        async def load() -> list[dict[str, Any]]:
            data = await self._get_data(url, tenant_id, {"storeCode": store_code})
            return [d for d in data or [] if isinstance(d, dict)]

        return await self._cached(("promotions", tenant_id, store_code), load)

    async def store_name(self, tenant_id: str, store_code: str) -> str | None:
        url = f"{self._terminal}/tenants/{_q(tenant_id)}/stores/{_q(store_code)}"

        async def load() -> str | None:
            data = await self._get_data(url, tenant_id)
            return data.get("storeName") if isinstance(data, dict) else None

        return await self._cached(("store", tenant_id, store_code), load)


def parameter_amount(raw: str | None) -> Decimal | None:
    """An amount parameter's value: None when absent or not a non-negative number."""
    if raw is None:
        return None
    # Parameter values are text; one stored as a JSON string keeps its quotes.
    text = str(raw).strip().strip('"').replace(",", "").replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def parameter_flag(raw: str | None) -> bool:
    """A true/false parameter's value: true only when it says so ("true", any case; a value
    stored as a JSON string keeps its quotes); absent or anything else is false."""
    return raw is not None and str(raw).strip().strip('"').strip().lower() == "true"


def resolve_parameter(
    parameters: list[dict[str, Any]], name: str, store_code: str, terminal_no: int
) -> str | None:
    """Spec §15.4: store+terminal entry → store entry → global entry → default value."""
    for entry in parameters:
        if entry.get("name") != name:
            continue
        values = [v for v in entry.get("values") or [] if isinstance(v, dict)]
        for want_store, want_terminal in (
            (store_code, terminal_no),
            (store_code, None),
            (None, None),
        ):
            for value in values:
                if (
                    value.get("storeCode") == want_store
                    and value.get("terminalNo") == want_terminal
                ):
                    return value.get("value")
        return entry.get("defaultValue")
    return None
