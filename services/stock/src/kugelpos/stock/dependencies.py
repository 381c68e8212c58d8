"""Wiring: who may call, and the services and process-wide objects a request needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from kugelpos.common.auth.access import ADMIN, MANAGER, STORE_TILL, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import tenant_access
from kugelpos.common.web.app import get_wiring

from .adjustments.service import AdjustmentService
from .alerts.service import AlertService
from .counts.service import CountService
from .movements.service import MovementService
from .receipts.service import ReceiptService
from .schedules.service import ScheduleService
from .snapshots.service import SnapshotService
from .stocks.service import StockService
from .transfers.service import TransferService
from .valuation.service import ValuationService
from .wiring import StockWiring

type StockWiringDep = Annotated[StockWiring, Depends(get_wiring)]
TerminalId = Annotated[
    str | None, Query(max_length=128, description="with X-API-KEY: the calling terminal")
]


# Any credential of the tenant (user, service or terminal JWT, terminal API key), as in v1: a
# till and a back office both read and adjust stock.
type Reader = Annotated[Principal, Depends(tenant_access)]
# Writes (docs/access.md): a store's stock is changed by its back office or its own tills
# (v1: a till adjusts stock), never by a clerk's token or another store's till; the
# tenant-wide snapshot schedule, batch adjustments, receipts, opening/posting/cancelling
# counts and transfers by the back office only (a till of the store enters count lines).
type StoreWriter = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, STORE_TILL, source=tenant_access))
]
type BackOffice = Annotated[Principal, Depends(allow(ADMIN, MANAGER, source=tenant_access))]


async def get_stock_service(wiring: StockWiringDep) -> StockService:
    return StockService(wiring.infra.mongo)


async def get_adjustment_service(wiring: StockWiringDep) -> AdjustmentService:
    return AdjustmentService(wiring.infra.mongo, wiring.items)


async def get_receipt_service(wiring: StockWiringDep) -> ReceiptService:
    return ReceiptService(wiring.infra.mongo, wiring.consumer.ensure_tenant, wiring.items)


async def get_count_service(wiring: StockWiringDep) -> CountService:
    return CountService(wiring.infra.mongo, wiring.consumer.ensure_tenant, wiring.items)


async def get_transfer_service(wiring: StockWiringDep) -> TransferService:
    return TransferService(wiring.infra.mongo, wiring.consumer.ensure_tenant, wiring.items)


async def get_valuation_service(wiring: StockWiringDep) -> ValuationService:
    return ValuationService(wiring.infra.mongo)


async def get_movement_service(wiring: StockWiringDep) -> MovementService:
    return MovementService(wiring.infra.mongo, timezone=wiring.settings.timezone)


async def get_alert_service(wiring: StockWiringDep) -> AlertService:
    return wiring.alerts


async def get_schedule_service(wiring: StockWiringDep) -> ScheduleService:
    return ScheduleService(wiring.infra.mongo, wiring.settings)


async def get_snapshot_service(wiring: StockWiringDep) -> SnapshotService:
    settings = wiring.settings
    return SnapshotService(
        wiring.infra.mongo, timezone=settings.timezone, max_items=settings.snapshot_max_items
    )


type StockServiceDep = Annotated[StockService, Depends(get_stock_service)]
type AdjustmentServiceDep = Annotated[AdjustmentService, Depends(get_adjustment_service)]
type ReceiptServiceDep = Annotated[ReceiptService, Depends(get_receipt_service)]
type CountServiceDep = Annotated[CountService, Depends(get_count_service)]
type TransferServiceDep = Annotated[TransferService, Depends(get_transfer_service)]
type ValuationServiceDep = Annotated[ValuationService, Depends(get_valuation_service)]
type MovementServiceDep = Annotated[MovementService, Depends(get_movement_service)]
type AlertServiceDep = Annotated[AlertService, Depends(get_alert_service)]
type ScheduleServiceDep = Annotated[ScheduleService, Depends(get_schedule_service)]
type SnapshotServiceDep = Annotated[SnapshotService, Depends(get_snapshot_service)]
