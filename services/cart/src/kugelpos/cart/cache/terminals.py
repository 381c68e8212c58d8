"""Terminal info for the hot path.

Who the terminal is (tenant, store, number), whether it is open, its business date and
counters, and who is signed in. With a terminal JWT all of it is in the token's claims (no
call). With `X-API-KEY` it is looked up, in order:

1. an in-process TTL cache keyed by (terminal id, SHA-256 of the key): a few seconds;
2. the shared Dapr state store `terminalstore` (all replicas), entry `terminal:<id>` holding
   the terminal data and the key's digest, which must match (a cache hit never skips the key
   check, spec §18.3);
3. the terminal service (`GET /terminals/{id}` with the same key), whose answer refills both.

A terminal JWT is checked the same way (commons `RemoteTerminalResolver.verify_token`, level
1 only): the terminal service answers while the token's key version is current, and its
answer, the terminal as it is now, replaces the token's claims.

A `terminal_changed` notice (key rotated, terminal deleted, opened, closed, staff signed in or
out) and the open and close events (`opencloselog_report`) drop a terminal's entries at once
(spec §18.13); create-cart re-reads the terminal service before refusing on a stale "not
open"/"no staff".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.remote_terminal import RemoteTerminalResolver
from kugelpos.common.cache import TTLCache
from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import AppError

from ..domain.models import Person

log = structlog.get_logger(__name__)

type LocalKey = tuple[str, str]


def _digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    tenant_id: str
    store_code: str
    terminal_no: int
    terminal_id: str
    status: str | None
    business_date: str | None
    open_counter: int
    business_counter: int
    staff: Person | None

    @classmethod
    def from_principal(cls, principal: Principal) -> TerminalInfo:
        """From terminal-service data (camelCase, API-key mode) or JWT claims (snake_case)."""
        c = principal.claims

        def pick(camel: str, snake: str) -> Any:
            return c.get(camel, c.get(snake))

        terminal_id = principal.terminal_id or pick("terminalId", "terminal_id") or ""
        parts = terminal_id.split("-")
        staff = None
        raw_staff = c.get("staff")
        if isinstance(raw_staff, dict) and (raw_staff.get("staffId") or raw_staff.get("id")):
            staff = Person(
                id=str(raw_staff.get("staffId") or raw_staff.get("id")),
                name=raw_staff.get("staffName") or raw_staff.get("name"),
            )
        elif c.get("staff_id"):
            staff = Person(id=str(c["staff_id"]), name=c.get("staff_name"))
        return cls(
            tenant_id=principal.tenant_id,
            store_code=str(pick("storeCode", "store_code") or (parts[1] if len(parts) > 2 else "")),
            terminal_no=_int(pick("terminalNo", "terminal_no"), _int(parts[-1] if parts else 0)),
            terminal_id=terminal_id,
            status=pick("status", "status"),
            business_date=pick("businessDate", "business_date"),
            open_counter=_int(pick("openCounter", "open_counter")),
            business_counter=_int(pick("businessCounter", "business_counter")),
            staff=staff,
        )


class TerminalInfoCache:
    """An `ApiKeyResolver` (plug into the app's Authenticator) with two cache levels."""

    def __init__(
        self,
        http: HttpClientHelper,
        dapr: DaprClientHelper,
        base_url_terminal: str,
        *,
        store: str = "terminalstore",
        store_ttl_seconds: int = 60,
        local_ttl_seconds: float = 5.0,
        max_entries: int = 10_000,
        stale_max_age: float = 900.0,
        on_stale: Callable[[], None] | None = None,
    ) -> None:
        # Both serve a credential's last approval while the terminal service is unreachable.
        self.remote = RemoteTerminalResolver(
            http, base_url_terminal, ttl=0, stale_max_age=stale_max_age, on_stale=on_stale
        )
        self.tokens = RemoteTerminalResolver(
            http,
            base_url_terminal,
            ttl=local_ttl_seconds,
            max_entries=max_entries,
            stale_max_age=stale_max_age,
            on_stale=on_stale,
        )
        # Bumped per terminal by `forget`: a fetch that a forget overtook must not put what
        # it read into the shared store (a rotated key's approval would outlive the notice).
        self._generation: dict[str, int] = {}
        self.dapr = dapr
        self.store = store
        self.store_ttl_seconds = store_ttl_seconds
        self.local: TTLCache[LocalKey, Principal] = TTLCache(
            ttl=local_ttl_seconds, max_entries=max_entries
        )
        self.remote_calls = 0

    @staticmethod
    def state_key(terminal_id: str) -> str:
        return f"terminal:{terminal_id}"

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        digest = _digest(api_key)
        return await self.local.get_or_load(
            (terminal_id, digest), lambda: self._load(terminal_id, api_key, digest)
        )

    async def _load(self, terminal_id: str, api_key: str, digest: str) -> Principal:
        shared = await self._from_store(terminal_id, digest)
        if shared is not None:
            return shared
        return await self._fetch(terminal_id, api_key, digest)

    async def refresh(self, terminal_id: str, api_key: str) -> Principal:
        """Bypass both caches (e.g. before refusing a cart on a stale status)."""
        self.local.invalidate_where(lambda key: key[0] == terminal_id)
        digest = _digest(api_key)
        principal = await self._fetch(terminal_id, api_key, digest)
        self.local.set((terminal_id, digest), principal)
        return principal

    async def _from_store(self, terminal_id: str, digest: str) -> Principal | None:
        try:
            entry = await self.dapr.get_state(self.store, self.state_key(terminal_id))
        except AppError as exc:
            log.info("terminalstore_unavailable", error=exc.message)
            return None
        value = entry.value if entry is not None else None
        if not isinstance(value, dict):
            return None
        stored = value.get("key_digest")
        if not isinstance(stored, str) or not hmac.compare_digest(stored, digest):
            return None
        claims = value.get("claims")
        tenant_id = value.get("tenant_id")
        if not isinstance(claims, dict) or not isinstance(tenant_id, str):
            return None
        return Principal.of_terminal(terminal_id, tenant_id, claims)

    async def verify_token(self, principal: Principal) -> Principal:
        return await self.tokens.verify_token(principal)

    async def _fetch(self, terminal_id: str, api_key: str, digest: str) -> Principal:
        self.remote_calls += 1
        generation = self._generation.get(terminal_id, 0)
        principal = await self.remote(terminal_id, api_key)
        if generation != self._generation.get(terminal_id, 0):
            return principal  # forgotten meanwhile: answer this request, share nothing
        value = {"tenant_id": principal.tenant_id, "key_digest": digest, "claims": principal.claims}
        try:
            await self.dapr.save_state(
                self.store,
                self.state_key(terminal_id),
                value,
                ttl_seconds=self.store_ttl_seconds,
            )
        except AppError as exc:
            log.info("terminalstore_save_failed", error=exc.message)
        return principal

    async def forget(self, terminal_id: str) -> None:
        """Drop a terminal's entries here and in `terminalstore` (lifecycle changed)."""
        self._generation[terminal_id] = self._generation.get(terminal_id, 0) + 1
        self.local.invalidate_where(lambda key: key[0] == terminal_id)
        await self.remote.forget(terminal_id)
        await self.tokens.forget(terminal_id)
        try:
            await self.dapr.delete_state(self.store, self.state_key(terminal_id))
        except AppError as exc:
            log.info("terminalstore_delete_failed", error=exc.message)

    # ---- the /cache/terminal endpoints ---------------------------------------------------------

    def terminal_ids(self, tenant_id: str | None = None) -> list[str]:
        ids = {key[0] for key in list(self.local._entries) if key in self.local}
        if tenant_id is not None:
            ids = {i for i in ids if i.startswith(f"{tenant_id}-")}
        return sorted(ids)

    async def clear(self, tenant_id: str) -> int:
        ids = self.terminal_ids(tenant_id)
        for terminal_id in ids:
            await self.forget(terminal_id)
        return len(ids)
