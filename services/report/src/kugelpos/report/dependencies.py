"""Wiring: who may call, and the services a request needs.

Read scope: any credential of the tenant (user, service or terminal JWT, terminal API key);
a terminal credential reads only its own store's reports. Writes (docs/access.md): the direct
intake takes service tokens and an admin's audited import (commons); rebuilding the tenant's
aggregates is an admin's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kugelpos.common.auth.access import ADMIN, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import store_reader, tenant_access
from kugelpos.common.events.consumer import EventConsumer
from kugelpos.common.events.intake import TransactionIntake
from kugelpos.common.web.app import Infrastructure, infrastructure

from .config import ReportSettings
from .errors import (
    ReportGenerationError,
    TransactionConflictError,
    TransactionValidationError,
)

type Infra = Annotated[Infrastructure, Depends(infrastructure)]
read_access = store_reader("A terminal may read only its own store's reports")
type Reader = Annotated[Principal, Depends(read_access)]
type Admin = Annotated[Principal, Depends(allow(ADMIN, source=tenant_access))]


def settings_of(infra: Infrastructure) -> ReportSettings:
    settings = infra.settings
    assert isinstance(settings, ReportSettings)
    return settings


def consumer_of(request: Request) -> EventConsumer:
    return request.app.state.consumer


type Consumer = Annotated[EventConsumer, Depends(consumer_of)]


# ---- services --------------------------------------------------------------------------------

from .reports.service import ReportService  # noqa: E402
from .tenants.service import TenantService  # noqa: E402


async def get_report_service(request: Request, infra: Infra, consumer: Consumer) -> ReportService:
    return request.app.state.report_service_factory(infra, consumer)


async def get_tenant_service(infra: Infra) -> TenantService:
    return TenantService(infra.mongo)


async def get_transaction_intake(consumer: Consumer) -> TransactionIntake:
    return TransactionIntake(
        consumer,
        invalid=TransactionValidationError,
        not_stored=(ReportGenerationError, "Transaction could not be stored"),
        conflict=TransactionConflictError,
    )


type ReportServiceDep = Annotated[ReportService, Depends(get_report_service)]
type TransactionIntakeDep = Annotated[TransactionIntake, Depends(get_transaction_intake)]
