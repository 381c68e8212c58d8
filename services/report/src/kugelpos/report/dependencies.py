"""Wiring: who may call, and the services a request needs.

Read scope: any credential of the tenant (user, service or terminal JWT, terminal API key);
a terminal credential reads only its own store's reports. Writes (docs/access.md): the direct
intake takes service tokens and an admin's audited import (commons); rebuilding the tenant's
aggregates is an admin's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import store_reader, tenant_access
from kugelpos.common.web.app import get_wiring

from .reports.service import ReportService
from .wiring import ReportWiring

type ReportWiringDep = Annotated[ReportWiring, Depends(get_wiring)]
read_access = store_reader("A terminal may read only its own store's reports")
type Reader = Annotated[Principal, Depends(read_access)]
type Admin = Annotated[Principal, Depends(allow(ADMIN, source=tenant_access))]


async def get_report_service(wiring: ReportWiringDep) -> ReportService:
    return wiring.report_service


type ReportServiceDep = Annotated[ReportService, Depends(get_report_service)]
