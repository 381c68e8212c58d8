"""Wiring: who may call, and the services a request needs.

Read scope: any credential of the tenant (user, service or terminal JWT, terminal API key);
a terminal credential reads only its own store (its receipts are that store's business, and
a till may reprint another till's receipt in the same store). Write scope: a terminal writes
only for itself; user and service tokens (Report archiving reports) for any terminal.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from kugelpos.common.auth.dependencies import CurrentPrincipal, ensure_tenant
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.errors import PermissionDeniedError
from kugelpos.common.events.consumer import EventConsumer
from kugelpos.common.web.app import Infrastructure, infrastructure

from .config import JournalSettings

type Infra = Annotated[Infrastructure, Depends(infrastructure)]
TenantId = Annotated[str, Path(max_length=32)]
StoreCode = Annotated[str, Path(min_length=1, max_length=64)]
TerminalNo = Annotated[int, Path(ge=0, le=2**31 - 1)]


async def tenant_access(
    tenant_id: TenantId,
    principal: CurrentPrincipal,
    terminal_id: Annotated[
        str | None, Query(max_length=128, description="with X-API-KEY: the calling terminal")
    ] = None,
    is_terminal_service: Annotated[
        bool | None, Query(description="v1 compatibility: accepted and ignored")
    ] = False,
) -> Principal:
    ensure_tenant(principal, tenant_id)
    return principal


type TenantPrincipal = Annotated[Principal, Depends(tenant_access)]


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


def ensure_store(principal: Principal, store_code: str) -> None:
    if principal.kind is PrincipalKind.TERMINAL and terminal_store(principal) != store_code:
        raise PermissionDeniedError("A terminal may read only its own store's journal")


async def read_access(principal: TenantPrincipal, store_code: StoreCode) -> Principal:
    ensure_store(principal, store_code)
    return principal


async def write_access(
    principal: TenantPrincipal, store_code: StoreCode, terminal_no: TerminalNo
) -> Principal:
    if principal.kind is PrincipalKind.TERMINAL:
        expected = f"{principal.tenant_id}-{store_code}-{terminal_no}"
        if principal.terminal_id != expected:
            raise PermissionDeniedError("A terminal may write only its own journal")
    return principal


type Reader = Annotated[Principal, Depends(read_access)]
type Writer = Annotated[Principal, Depends(write_access)]


def settings_of(infra: Infrastructure) -> JournalSettings:
    settings = infra.settings
    assert isinstance(settings, JournalSettings)
    return settings


def consumer_of(request: Request) -> EventConsumer:
    return request.app.state.consumer


type Consumer = Annotated[EventConsumer, Depends(consumer_of)]


# ---- services --------------------------------------------------------------------------------

from .journals.service import JournalService  # noqa: E402
from .tenants.service import TenantService  # noqa: E402
from .transactions.service import TransactionIntake  # noqa: E402


async def get_journal_service(infra: Infra, consumer: Consumer) -> JournalService:
    return JournalService(
        infra.mongo, consumer.ensure_tenant, batch_size=settings_of(infra).csv_batch_size
    )


async def get_tenant_service(infra: Infra) -> TenantService:
    return TenantService(infra.mongo)


async def get_transaction_intake(consumer: Consumer) -> TransactionIntake:
    return TransactionIntake(consumer)


type JournalServiceDep = Annotated[JournalService, Depends(get_journal_service)]
type TenantServiceDep = Annotated[TenantService, Depends(get_tenant_service)]
type TransactionIntakeDep = Annotated[TransactionIntake, Depends(get_transaction_intake)]
