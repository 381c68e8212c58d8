"""Wiring: who may call (read vs write), list parameters, and the services a request needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from kugelpos.common.auth.access import ADMIN, MANAGER, SERVICE, STORE_TILL, allow
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import tenant_access
from kugelpos.common.errors import BadRequestError, ErrorCode
from kugelpos.common.pagination import PageParams, SortSpec, page_params
from kugelpos.common.web.app import get_wiring

from .wiring import MasterDataWiring

type MasterDataWiringDep = Annotated[MasterDataWiring, Depends(get_wiring)]


# Reading master data: any credential of the tenant (user, service or terminal JWT, terminal
# API key).
read_access = tenant_access
type Reader = Annotated[Principal, Depends(read_access)]


# Changing master data: the tenant's back office (a user with the admin or manager role).
write_access = allow(ADMIN, MANAGER, source=read_access)
type Writer = Annotated[Principal, Depends(write_access)]
# A lookup of many items (`POST /items/lookup`) is a read in POST form: the back office, a
# till, a service (stock checks a request's items); not a clerk's token, which writes nothing.
type ItemLookup = Annotated[
    Principal,
    Depends(
        allow(ADMIN, MANAGER, STORE_TILL, SERVICE, note="a read in POST form", source=read_access)
    ),
]
# A staff PIN check (sign-in at a till, a manager's approval): the back office, a till of the
# tenant or a service (the terminal service signing staff in); not a clerk's token.
type PinChecker = Annotated[
    Principal, Depends(allow(ADMIN, MANAGER, STORE_TILL, SERVICE, source=read_access))
]

# The store's data feed (`/sync`): a till of that store (another store's till 403), the back
# office, a service. Not a clerk's token: the feed is the whole of a store's data, for tills.
type StoreFeedReader = Annotated[
    Principal,
    Depends(
        allow(ADMIN, MANAGER, STORE_TILL, SERVICE, note="the path's store", source=read_access)
    ),
]
# Prices in force at an instant (`POST .../items/prices-at`, a read in POST form): the cart's
# offline intake (a service) and the back office reconciling offline sales.
type PriceReader = Annotated[
    Principal,
    Depends(allow(ADMIN, MANAGER, SERVICE, note="a read in POST form", source=read_access)),
]


def list_params(
    sortable: frozenset[str], default_sort: SortSpec
) -> Callable[[PageParams], PageParams]:
    """limit/page/sort with a per-resource whitelist of sort fields (snake_case)."""

    async def dependency(params: Annotated[PageParams, Depends(page_params)]) -> PageParams:
        for name, _ in params.sort:
            if name not in sortable:
                raise BadRequestError(
                    f"Cannot sort by {name!r}; allowed: {', '.join(sorted(sortable))}",
                    code=ErrorCode.INVALID_FORMAT,
                )
        if params.sort:
            return params
        return PageParams(limit=params.limit, page=params.page, sort=list(default_sort))

    return dependency


# ---- services --------------------------------------------------------------------------------
# Imported here, after the access helpers, because the resource packages import those helpers.

from .categories.service import CategoryService  # noqa: E402
from .changes.service import SyncService  # noqa: E402
from .item_books.service import ItemBookService  # noqa: E402
from .items.service import ItemService  # noqa: E402
from .parameters.service import ParameterService  # noqa: E402
from .payments.service import PaymentService  # noqa: E402
from .promotions.service import PromotionService  # noqa: E402
from .return_reasons.service import ReturnReasonService  # noqa: E402
from .staff.service import StaffService  # noqa: E402
from .store_items.service import StoreItemService  # noqa: E402
from .taxes.service import TaxService  # noqa: E402
from .tenants.service import TenantService  # noqa: E402


async def get_staff_service(wiring: MasterDataWiringDep) -> StaffService:
    return StaffService(
        wiring.infra.mongo,
        wiring.pin_limiter,
        wiring.changes,
        bcrypt_rounds=wiring.settings.pin_bcrypt_rounds,
    )


async def get_item_service(wiring: MasterDataWiringDep) -> ItemService:
    return ItemService(wiring.infra.mongo, wiring.cache, wiring.settings, wiring.changes)


async def get_store_item_service(
    wiring: MasterDataWiringDep, items: Annotated[ItemService, Depends(get_item_service)]
) -> StoreItemService:
    return StoreItemService(wiring.infra.mongo, wiring.cache, items, wiring.changes)


async def get_category_service(wiring: MasterDataWiringDep) -> CategoryService:
    return CategoryService(wiring.infra.mongo, wiring.settings, wiring.changes)


async def get_payment_service(wiring: MasterDataWiringDep) -> PaymentService:
    return PaymentService(wiring.infra.mongo, wiring.cache, wiring.changes)


async def get_parameter_service(wiring: MasterDataWiringDep) -> ParameterService:
    return ParameterService(wiring.infra.mongo, wiring.cache, wiring.changes)


async def get_tax_service(wiring: MasterDataWiringDep) -> TaxService:
    return TaxService(wiring.settings)


async def get_item_book_service(wiring: MasterDataWiringDep) -> ItemBookService:
    return ItemBookService(wiring.infra.mongo, wiring.settings)


async def get_promotion_service(wiring: MasterDataWiringDep) -> PromotionService:
    return PromotionService(wiring.infra.mongo, wiring.cache, wiring.settings, wiring.changes)


async def get_return_reason_service(wiring: MasterDataWiringDep) -> ReturnReasonService:
    return ReturnReasonService(wiring.infra.mongo, wiring.changes)


async def get_sync_service(wiring: MasterDataWiringDep) -> SyncService:
    return SyncService(wiring.infra.mongo, wiring.settings, wiring.changes)


async def get_tenant_service(wiring: MasterDataWiringDep) -> TenantService:
    return TenantService(wiring.infra.mongo, wiring.cache, wiring.changes)


type StaffServiceDep = Annotated[StaffService, Depends(get_staff_service)]
type ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
type StoreItemServiceDep = Annotated[StoreItemService, Depends(get_store_item_service)]
type CategoryServiceDep = Annotated[CategoryService, Depends(get_category_service)]
type PaymentServiceDep = Annotated[PaymentService, Depends(get_payment_service)]
type ParameterServiceDep = Annotated[ParameterService, Depends(get_parameter_service)]
type TaxServiceDep = Annotated[TaxService, Depends(get_tax_service)]
type ItemBookServiceDep = Annotated[ItemBookService, Depends(get_item_book_service)]
type PromotionServiceDep = Annotated[PromotionService, Depends(get_promotion_service)]
type ReturnReasonServiceDep = Annotated[ReturnReasonService, Depends(get_return_reason_service)]
type SyncServiceDep = Annotated[SyncService, Depends(get_sync_service)]
type TenantServiceDep = Annotated[TenantService, Depends(get_tenant_service)]
