"""The read-through cache of the hot read path (what the cart asks for on every sale).

One in-process `TTLCache` (commons) per service process, keyed by tuples that start with the
kind and the tenant. Every write invalidates the keys it can change before it answers, so the
next read in this process sees the new value, and announces the change on `masterdata_changed`
so other replicas and the cart drop theirs at once; if a notice is lost, the entry still
expires (`CACHE_TTL_SECONDS`, default 5 s). See docs/master-data.md for why this cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kugelpos.common.cache import TTLCache
from kugelpos.common.events.changes import ChangeKind, MasterChange

type Key = tuple[str, ...]

ITEM = "item"
DETAILS = "details"
PAYMENT = "payment"
PARAMETER = "parameter"


class MasterCache:
    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int,
        announce: Callable[[MasterChange], None] | None = None,
    ) -> None:
        self.entries: TTLCache[Key, Any] = TTLCache(ttl=ttl, max_entries=max_entries)
        self._announce = announce

    async def get_or_load[V](self, key: Key, loader: Callable[[], Awaitable[V]]) -> V:
        return await self.entries.get_or_load(key, loader)

    # ---- keys ----------------------------------------------------------------------------

    @staticmethod
    def item_key(tenant_id: str, item_code: str) -> Key:
        return (ITEM, tenant_id, item_code)

    @staticmethod
    def details_key(tenant_id: str, store_code: str, item_code: str) -> Key:
        return (DETAILS, tenant_id, store_code, item_code)

    @staticmethod
    def payment_key(tenant_id: str, payment_code: str) -> Key:
        return (PAYMENT, tenant_id, payment_code)

    @staticmethod
    def parameter_key(tenant_id: str, name: str) -> Key:
        return (PARAMETER, tenant_id, name)

    # ---- invalidation (called by every write, after it is stored) -------------------------

    def changed(self, change: MasterChange) -> None:
        """This process wrote: drop what it cached, and tell every other process."""
        self.apply(change)
        if self._announce is not None:
            self._announce(change)

    def apply(self, change: MasterChange) -> None:
        """Drop the entries a change can affect (a notice from another replica, or our own)."""
        tenant, code = change.tenant_id, change.code
        match change.kind:
            case ChangeKind.ITEM:
                # The common item feeds its own entry and every store's `details` of it.
                self.entries.invalidate_where(
                    lambda k: (
                        k[1] == tenant
                        and ((k[0] == ITEM and k[2] == code) or (k[0] == DETAILS and k[3] == code))
                    )
                )
            case ChangeKind.STORE_ITEM if change.store_code and code:
                self.entries.invalidate(self.details_key(tenant, change.store_code, code))
            case ChangeKind.PAYMENT if code:
                self.entries.invalidate(self.payment_key(tenant, code))
            case ChangeKind.PARAMETER if code:
                self.entries.invalidate(self.parameter_key(tenant, code))
            case ChangeKind.PROMOTION:
                pass  # promotions are not cached here (the cart caches them)
            case _:
                self.entries.invalidate_where(lambda k: k[1] == tenant)

    def item_changed(self, tenant_id: str, item_code: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.ITEM, item_code))

    def store_item_changed(self, tenant_id: str, store_code: str, item_code: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.STORE_ITEM, item_code, store_code))

    def payment_changed(self, tenant_id: str, payment_code: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.PAYMENT, payment_code))

    def parameter_changed(self, tenant_id: str, name: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.PARAMETER, name))

    def promotion_changed(self, tenant_id: str, promotion_code: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.PROMOTION, promotion_code))

    def tenant_changed(self, tenant_id: str) -> None:
        self.changed(MasterChange(tenant_id, ChangeKind.TENANT))
