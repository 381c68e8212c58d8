"""Who may do what: the rules every router applies before calling a service.

- Tenant data belongs to the credential's tenant only (another tenant ⇒ 403).
- Writes to tenants, stores and terminals need a user with the admin or manager role.
- A terminal credential (API key or terminal JWT) acts only for its own terminal (⇒ 403).
- Service tokens may read.
"""

from __future__ import annotations

from kugelpos.common.auth.dependencies import ensure_tenant, ensure_terminal
from kugelpos.common.auth.principal import Principal, PrincipalKind, Role
from kugelpos.common.errors import PermissionDeniedError

from .terminals.documents import tenant_of

MANAGERS = (Role.ADMIN.value, Role.MANAGER.value)


def ensure_manager(principal: Principal) -> None:
    if principal.kind is not PrincipalKind.USER or not principal.has_any_role(*MANAGERS):
        raise PermissionDeniedError("A user with the admin or manager role is required")


def ensure_tenant_reader(principal: Principal, tenant_id: str) -> None:
    ensure_tenant(principal, tenant_id)


def ensure_terminal_reader(principal: Principal, terminal_id: str) -> None:
    """Users and services of the tenant, or the terminal itself."""
    ensure_tenant(principal, tenant_of(terminal_id))
    ensure_terminal(principal, terminal_id)


def ensure_terminal_operator(principal: Principal, terminal_id: str) -> None:
    """Lifecycle operations: the terminal itself, or a manager of the tenant."""
    ensure_tenant(principal, tenant_of(terminal_id))
    if principal.kind is PrincipalKind.TERMINAL:
        ensure_terminal(principal, terminal_id)
        return
    ensure_manager(principal)


def ensure_terminal_manager(principal: Principal, terminal_id: str) -> None:
    """Create/delete/regenerate key: managers of the tenant only."""
    ensure_tenant(principal, tenant_of(terminal_id))
    ensure_manager(principal)
