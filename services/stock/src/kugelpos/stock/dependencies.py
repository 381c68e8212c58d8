"""Wiring: who may call, and the process-wide objects a request needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from kugelpos.common.auth.access import ADMIN, MANAGER, STORE_TILL, allow
from kugelpos.common.auth.dependencies import CurrentPrincipal, ensure_tenant
from kugelpos.common.auth.principal import Principal
from kugelpos.common.web.app import Infrastructure, infrastructure

from .alerts.hub import AlertHub
from .alerts.service import AlertService
from .config import StockSettings

type Infra = Annotated[Infrastructure, Depends(infrastructure)]
TerminalId = Annotated[
    str | None, Query(max_length=128, description="with X-API-KEY: the calling terminal")
]


async def tenant_access(
    tenant_id: Annotated[str, Path(max_length=64)],
    principal: CurrentPrincipal,
    terminal_id: TerminalId = None,
    is_terminal_service: Annotated[
        bool | None, Query(description="v1 compatibility: accepted and ignored")
    ] = False,
) -> Principal:
    """Any credential of the tenant (user, service or terminal JWT, terminal API key), as in
    v1: a till and a back office both read and adjust stock."""
    ensure_tenant(principal, tenant_id)
    return principal


type Caller = Annotated[Principal, Depends(tenant_access)]
# Writes (docs/access.md): a store's stock is changed by its back office or its own tills
# (v1: a till adjusts stock), never by a clerk's token or another store's till; the
# tenant-wide snapshot schedule by the back office only.
type StoreWriter = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, STORE_TILL, source=tenant_access))
]
type BackOffice = Annotated[Principal, Depends(allow(ADMIN, MANAGER, source=tenant_access))]


def settings_of(infra: Infrastructure) -> StockSettings:
    settings = infra.settings
    assert isinstance(settings, StockSettings)
    return settings


def alert_service(infra: Infrastructure) -> AlertService:
    service = infra.extras.get("stock_alerts")
    if service is None:
        settings = settings_of(infra)
        service = AlertService(
            infra.dapr,
            AlertHub(),
            state_store=settings.alert_state_store,
            cooldown_seconds=settings.alert_cooldown_seconds,
        )
        infra.extras["stock_alerts"] = service
    return service


from .stocks.service import StockService  # noqa: E402


async def get_stock_service(infra: Infra) -> StockService:
    return StockService(infra.mongo)


async def get_alerts(infra: Infra) -> AlertService:
    return alert_service(infra)


type StockServiceDep = Annotated[StockService, Depends(get_stock_service)]
type AlertsDep = Annotated[AlertService, Depends(get_alerts)]
