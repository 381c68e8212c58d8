"""Wiring: who may call, and the services a request needs.

Read scope: any credential of the tenant (user, service or terminal JWT, terminal API key);
a terminal credential reads only its own store (its receipts are that store's business, and
a till may reprint another till's receipt in the same store). Writes (docs/access.md): a
journal entry is archived by the till itself, a service (the report archiving a report) or
an admin; the direct transaction intake takes service tokens and an admin's audited import
(commons).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, OWN_TILL, SERVICE, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import store_reader, tenant_access
from kugelpos.common.web.app import get_wiring

from .journals.service import JournalService
from .wiring import JournalWiring

type JournalWiringDep = Annotated[JournalWiring, Depends(get_wiring)]
read_access = store_reader("A terminal may read only its own store's journal")
write_access = allow(OWN_TILL, SERVICE, ADMIN, source=tenant_access)
type Reader = Annotated[Principal, Depends(read_access)]
type Writer = Annotated[Principal, Depends(write_access)]


async def get_journal_service(wiring: JournalWiringDep) -> JournalService:
    return JournalService(
        wiring.infra.mongo,
        wiring.consumer.ensure_tenant,
        batch_size=wiring.settings.csv_batch_size,
    )


type JournalServiceDep = Annotated[JournalService, Depends(get_journal_service)]
