"""Wiring: who may call, and the services a request needs (docs/access.md).

Cards are issued, listed, blocked and their ledgers read by the back office (admin, manager);
a card's balance by any till of the tenant (its PIN asked, failures throttled per till) or
the back office. Money moves only through the cart: holds are placed, captured and released
by a service token (the cart's payment and bill), loads and refunds arrive as the cart's
transaction logs. A service may issue a `credit` card (a refund to new store credit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, MANAGER, SERVICE, STORE_TILL, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import tenant_access
from kugelpos.common.web.app import get_wiring

from .cards.service import CardService
from .expiry.service import ExpiryService
from .holds.service import HoldService
from .liability.service import LiabilityService
from .loads.service import LoadService
from .wiring import StoredValueWiring

type StoredValueWiringDep = Annotated[StoredValueWiring, Depends(get_wiring)]

type BackOffice = Annotated[Principal, Depends(allow(ADMIN, MANAGER, source=tenant_access))]
type Admin = Annotated[Principal, Depends(allow(ADMIN, source=tenant_access))]
type Issuer = Annotated[
    Principal,
    Depends(
        allow(ADMIN, MANAGER, SERVICE, note="a service: credit cards only", source=tenant_access)
    ),
]
type BalanceReader = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, STORE_TILL, SERVICE, source=tenant_access))
]
type Cart = Annotated[Principal, Depends(allow(SERVICE, source=tenant_access))]
type HoldReader = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, SERVICE, source=tenant_access))
]


async def get_card_service(wiring: StoredValueWiringDep) -> CardService:
    return wiring.cards


async def get_hold_service(wiring: StoredValueWiringDep) -> HoldService:
    return wiring.holds


type CardServiceDep = Annotated[CardService, Depends(get_card_service)]
type HoldServiceDep = Annotated[HoldService, Depends(get_hold_service)]


async def get_load_service(wiring: StoredValueWiringDep) -> LoadService:
    return wiring.loads


type LoadServiceDep = Annotated[LoadService, Depends(get_load_service)]


async def get_liability_service(wiring: StoredValueWiringDep) -> LiabilityService:
    return LiabilityService(wiring.infra.mongo, timezone=wiring.settings.timezone)


type LiabilityServiceDep = Annotated[LiabilityService, Depends(get_liability_service)]


async def get_expiry_service(wiring: StoredValueWiringDep) -> ExpiryService:
    return wiring.expiry_service


type ExpiryServiceDep = Annotated[ExpiryService, Depends(get_expiry_service)]
