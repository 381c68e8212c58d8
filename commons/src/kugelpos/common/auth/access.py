"""Who may write what: one policy per write operation, enforced and published in one place.

    @router.put("/{tenant_id}/stores/{store_code}/stock/{item_code}/update")
    async def update(principal: Annotated[Principal, Depends(allow(ADMIN, MANAGER, STORE_TILL))]):

`allow(...)` is a FastAPI dependency that refuses (403) every caller the policy does not name,
after the credential itself was verified (401 before). Scope comes from the path:

- `{tenant_id}` (or the tenant a `{terminal_id}` embeds) must be the credential's tenant;
- a till (`STORE_TILL`) acts only for the path's `{store_code}` (the store of a `{terminal_id}`);
  `OWN_TILL` only for the path's own terminal (`{terminal_id}`, or `{store_code}` +
  `{terminal_no}`), or, on a path that names neither (a cart by id), for what the service
  itself finds the terminal owns;
- roles are a user token's: `ADMIN`, `MANAGER`, `USER` (a clerk); a tenant superuser has all;
- `SERVICE`: another service's token (the cart's, the terminal's, the report's).

The policy of each operation is attached to the dependency, so `create_app` publishes it in
the OpenAPI document (`x-kugelpos-access`), the role matrix in docs/access.md is generated from
it, and the access-matrix test probes every caller it does not name.

No `from __future__ import annotations` here: the dependency `allow` builds is a closure over
its `source`, and FastAPI must see its annotations as objects.
"""

from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from ..errors import PermissionDeniedError
from .dependencies import get_principal
from .policy import (  # noqa: F401  (the callers, re-exported for routers)
    ADMIN,
    BACK_OFFICE,
    MANAGER,
    OWN_TILL,
    SERVICE,
    STORE_TILL,
    USER,
    Access,
    Caller,
    declare,
)
from .principal import Principal

ACCESS_EXTENSION = "x-kugelpos-access"
ACCESS_NOTE_EXTENSION = "x-kugelpos-access-note"


def allow(
    *callers: Caller,
    note: str = "",
    source: Callable[..., Awaitable[Principal]] = get_principal,
) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the verified principal, if the policy admits it for this path, else 403.
    `source` is the dependency that verifies the credential: `get_principal` (bearer or
    `X-API-KEY`), `get_token_principal` (bearer only), or a service's own that also declares
    the v1 query parameters of its paths."""
    policy = Access(frozenset(callers), note)

    async def access(
        request: Request, principal: Annotated[Principal, Depends(source)]
    ) -> Principal:
        refused = policy.admits(principal, request.path_params)
        if refused is not None:
            raise PermissionDeniedError(refused)
        return principal

    return declare(access, policy)


def policy_of(dependant: Dependant) -> Access | None:
    """The `allow(...)` policy somewhere in a route's dependency tree."""
    for sub in _walk(dependant):
        found = getattr(sub.call, "__access__", None)
        if isinstance(found, Access):
            return found
    return None


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def publish_policies(openapi: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """Write each operation's policy into the OpenAPI document (`x-kugelpos-access`)."""
    paths = openapi.get("paths", {})
    for route in routes:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        policy = policy_of(dependant)
        if policy is None:
            continue
        for method in getattr(route, "methods", ()):
            operation = paths.get(route.path, {}).get(method.lower())
            if operation is not None:
                operation[ACCESS_EXTENSION] = sorted(c.value for c in policy.callers)
                if policy.note:
                    operation[ACCESS_NOTE_EXTENSION] = policy.note
    return openapi
