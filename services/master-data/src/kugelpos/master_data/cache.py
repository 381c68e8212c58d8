"""The read-through cache of the hot read path (what the cart asks for on every sale).

One in-process `TTLCache` (commons) per service process, keyed by tuples that start with the
kind and the tenant. Every write invalidates the keys it can change before it answers, so the
next read in this process sees the new value; another replica sees it when its entry expires
(`CACHE_TTL_SECONDS`, default 5 s). See docs/master-data.md for why this cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kugelpos.common.cache import TTLCache

type Key = tuple[str, ...]

ITEM = "item"
DETAILS = "details"
PAYMENT = "payment"
SETTING = "setting"


class MasterCache:
    def __init__(self, *, ttl: float, max_entries: int) -> None:
        self.entries: TTLCache[Key, Any] = TTLCache(ttl=ttl, max_entries=max_entries)

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
    def setting_key(tenant_id: str, name: str) -> Key:
        return (SETTING, tenant_id, name)

    # ---- invalidation (called by every write, after it is stored) -------------------------

    def item_changed(self, tenant_id: str, item_code: str) -> None:
        """The common item feeds its own entry and every store's `details` of it."""
        self.entries.invalidate_where(
            lambda k: (
                k[1] == tenant_id
                and (
                    (k[0] == ITEM and k[2] == item_code) or (k[0] == DETAILS and k[3] == item_code)
                )
            )
        )

    def store_item_changed(self, tenant_id: str, store_code: str, item_code: str) -> None:
        self.entries.invalidate(self.details_key(tenant_id, store_code, item_code))

    def payment_changed(self, tenant_id: str, payment_code: str) -> None:
        self.entries.invalidate(self.payment_key(tenant_id, payment_code))

    def setting_changed(self, tenant_id: str, name: str) -> None:
        self.entries.invalidate(self.setting_key(tenant_id, name))

    def tenant_changed(self, tenant_id: str) -> None:
        self.entries.invalidate_where(lambda k: k[1] == tenant_id)
