"""Who may call an operation: the callers a policy admits, checked against a principal and the
path it acts on. Enforced by `access.allow` (or by a dependency that `declare`s it) and
published in the OpenAPI document; see `access` for the whole story."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .principal import Principal, PrincipalKind


def terminal_store(principal: Principal) -> str | None:
    """The store of a terminal credential: its claims (API key: the terminal service's
    record; JWT: `store_code`), else the middle of `<tenant>-<store>-<no>`."""
    claims = principal.claims or {}
    store = claims.get("storeCode") or claims.get("store_code")
    if isinstance(store, str) and store:
        return store
    terminal_id = principal.terminal_id or ""
    _, _, rest = terminal_id.partition("-")
    store, _, _ = rest.rpartition("-")
    return store or None


class Caller(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"
    STORE_TILL = "till of the store"
    OWN_TILL = "the till itself"
    SERVICE = "service"


ADMIN, MANAGER, USER = Caller.ADMIN, Caller.MANAGER, Caller.USER
STORE_TILL, OWN_TILL, SERVICE = Caller.STORE_TILL, Caller.OWN_TILL, Caller.SERVICE
BACK_OFFICE = (ADMIN, MANAGER)


@dataclass(frozen=True, slots=True)
class Access:
    """The callers one operation admits."""

    callers: frozenset[Caller]
    note: str = ""

    def admits(self, principal: Principal, path: dict[str, Any]) -> str | None:
        """None when admitted, else why not (the 403's message)."""
        tenant = path.get("tenant_id") or _tenant_of(path.get("terminal_id"))
        if tenant is not None and principal.tenant_id != tenant:
            return "Access to another tenant is not allowed"
        match principal.kind:
            case PrincipalKind.USER:
                roles = [c.value for c in self.callers if c in (ADMIN, MANAGER, USER)]
                if USER in self.callers or (roles and principal.has_any_role(*roles)):
                    return None
                return f"This operation is for: {self.describe()}"
            case PrincipalKind.SERVICE:
                return None if SERVICE in self.callers else "A service may not do this"
            case PrincipalKind.TERMINAL:
                return self._admits_till(principal, path)
        return "Not allowed"

    def _admits_till(self, principal: Principal, path: dict[str, Any]) -> str | None:
        own = _own_terminal(principal, path)
        if OWN_TILL in self.callers and own is not False:
            return None
        if STORE_TILL in self.callers:
            store = path.get("store_code") or _store_of(path.get("terminal_id"))
            if store is None or terminal_store(principal) == store:
                return None
            return "A terminal may act only for its own store"
        if OWN_TILL in self.callers:
            return "A terminal may act only for itself"
        return "A terminal may not do this"

    def describe(self) -> str:
        return ", ".join(c.value for c in Caller if c in self.callers)


def _tenant_of(terminal_id: Any) -> str | None:
    return terminal_id.split("-", 1)[0] if isinstance(terminal_id, str) else None


def _store_of(terminal_id: Any) -> str | None:
    if not isinstance(terminal_id, str):
        return None
    _, _, rest = terminal_id.partition("-")
    store, _, _ = rest.rpartition("-")
    return store or None


def _own_terminal(principal: Principal, path: dict[str, Any]) -> bool | None:
    """Whether the path names the caller's own terminal (None: it names no terminal)."""
    if "terminal_id" in path:
        return path["terminal_id"] == principal.terminal_id
    if "terminal_no" in path and "store_code" in path:
        expected = f"{principal.tenant_id}-{path['store_code']}-{path['terminal_no']}"
        return principal.terminal_id == expected
    return None


def declare[F](dependency: F, policy: Access) -> F:
    """Attach a policy to a dependency that enforces it itself (e.g. the key owner's)."""
    dependency.__access__ = policy  # type: ignore[attr-defined]
    return dependency
