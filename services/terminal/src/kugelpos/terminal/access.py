"""Who may do what at the terminal service (docs/access.md): the policies its routers use.

- Tenant data belongs to the credential's tenant only (another tenant ⇒ 403).
- Tenants, stores and terminals are created, changed and deleted by the back office (a user
  with the admin or manager role); a key is rotated by the back office too.
- A terminal's lifecycle (sign-in/out, open/close, cash in/out, description, function mode) is
  the terminal's own (its API key or JWT) or the back office's.
- Reading a terminal: users and services of the tenant, or the terminal itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, MANAGER, OWN_TILL, Access, allow, declare
from kugelpos.common.auth.dependencies import ensure_tenant, ensure_terminal
from kugelpos.common.auth.principal import Principal

from .terminals.documents import tenant_of

type BackOffice = Annotated[Principal, Depends(allow(ADMIN, MANAGER))]
type Operator = Annotated[Principal, Depends(allow(ADMIN, MANAGER, OWN_TILL))]


async def key_holder() -> None:
    """Key exchange and the key-owner endpoints: the terminal's own API key (or JWT) is the
    credential, checked by the handler's dependency."""


declare(key_holder, Access(frozenset({OWN_TILL}), note="its own API key"))


def ensure_terminal_reader(principal: Principal, terminal_id: str) -> None:
    """Users and services of the tenant, or the terminal itself."""
    ensure_tenant(principal, tenant_of(terminal_id))
    ensure_terminal(principal, terminal_id)
