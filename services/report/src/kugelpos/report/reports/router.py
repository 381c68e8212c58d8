"""`GET …/reports` for a store and for one terminal (§3.3), `format=csv` for every type, and
`POST /api/v1/tenants/{tenant_id}/reports/rebuild` (recompute the aggregates from raw logs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.store_scope import StoreCode, TerminalNo
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.schemas import INT32_MAX, TenantId

from ..aggregates import rebuild
from ..dependencies import Admin, Reader, ReportServiceDep, ReportWiringDep
from ..plugins.base import ReportRequest
from .service import Caller, to_csv, validate

router = APIRouter(prefix="/api/v1/tenants", tags=["reports"])

Scope = Annotated[str, Query(max_length=16, description="flash (flush) or daily")]
Type = Annotated[str, Query(max_length=64, description="a registered report type")]
Day = Annotated[str | None, Query(max_length=32, description="YYYYMMDD")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def _caller(request: Request, principal: Principal) -> Caller:
    headers = {
        k: v for k, v in request.headers.items() if k.lower() in ("authorization", "x-api-key")
    }
    claims = principal.claims or {}
    staff = claims.get("staff_id") or claims.get("staffId")
    if staff is None and isinstance(claims.get("staff"), dict):
        staff = claims["staff"].get("id")
    terminal_id = request.query_params.get("terminal_id")
    return Caller(headers=headers, terminal_id=terminal_id, staff_id=staff)


async def _answer(
    service: Any,
    request: Request,
    principal: Principal,
    *,
    tenant_id: str,
    store_code: str,
    terminal_no: int | None,
    report_scope: str,
    report_type: str,
    business_date: str | None,
    business_date_from: str | None,
    business_date_to: str | None,
    open_counter: int | None,
    business_counter: int | None,
    limit: int,
    page: int,
    sort: str | None,
    format: str,
) -> Any:
    scope, day, date_from, date_to = validate(
        report_scope=report_scope,
        business_date=business_date,
        business_date_from=business_date_from,
        business_date_to=business_date_to,
    )
    report_request = ReportRequest(
        tenant_id=tenant_id,
        store_code=store_code,
        terminal_no=terminal_no,
        business_date=day,
        business_date_from=date_from,
        business_date_to=date_to,
        open_counter=open_counter,
        business_counter=business_counter,
        report_scope=scope,
        report_type=report_type,
        limit=limit,
        page=page,
        sort=sort,
    )
    data = await service.report(report_request, _caller(request, principal))
    if format == "csv":
        name = f"{report_type}_{store_code}_{terminal_no if terminal_no is not None else 'all'}"
        return Response(
            to_csv(service.makers[report_type], data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return ok(
        data,
        message=f"{report_type.capitalize()} report fetched successfully",
        operation="get_report_for_terminal" if terminal_no is not None else "get_report_for_store",
    )


@router.get("/{tenant_id}/stores/{store_code}/reports", response_model=ApiResponse[dict])
async def get_report_for_store(
    request: Request,
    tenant_id: TenantId,
    store_code: StoreCode,
    principal: Reader,
    service: ReportServiceDep,
    report_scope: Scope,
    report_type: Type,
    business_date: Day = None,
    business_date_from: Day = None,
    business_date_to: Day = None,
    open_counter: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    business_counter: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[str | None, Query(max_length=200)] = None,
    format: Format = "json",
) -> Any:
    """Store-wide report (`terminal_no` = null)."""
    return await _answer(
        service, request, principal, tenant_id=tenant_id, store_code=store_code,
        terminal_no=None, report_scope=report_scope, report_type=report_type,
        business_date=business_date, business_date_from=business_date_from,
        business_date_to=business_date_to, open_counter=open_counter,
        business_counter=business_counter, limit=limit, page=page, sort=sort, format=format,
    )  # fmt: skip


@router.get(
    "/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/reports",
    response_model=ApiResponse[dict],
)
async def get_report_for_terminal(
    request: Request,
    tenant_id: TenantId,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    principal: Reader,
    service: ReportServiceDep,
    report_scope: Scope,
    report_type: Type,
    business_date: Day = None,
    business_date_from: Day = None,
    business_date_to: Day = None,
    open_counter: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    business_counter: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[str | None, Query(max_length=200)] = None,
    format: Format = "json",
) -> Any:
    """One terminal's report."""
    return await _answer(
        service, request, principal, tenant_id=tenant_id, store_code=store_code,
        terminal_no=terminal_no, report_scope=report_scope, report_type=report_type,
        business_date=business_date, business_date_from=business_date_from,
        business_date_to=business_date_to, open_counter=open_counter,
        business_counter=business_counter, limit=limit, page=page, sort=sort, format=format,
    )  # fmt: skip


@router.post("/{tenant_id}/reports/rebuild", response_model=ApiResponse[dict])
async def rebuild_aggregates(
    tenant_id: TenantId, principal: Admin, wiring: ReportWiringDep
) -> ApiResponse[dict]:
    """Recompute the tenant's aggregates from its raw logs (the tenant's admin only)."""
    db = await wiring.consumer.ensure_tenant(tenant_id)
    counts = await rebuild(db, tenant_id, wiring.events.tz)
    return ok(counts, message="Report aggregates rebuilt", operation="rebuild_aggregates")
