"""Journal endpoints: archive an entry, search (JSON or CSV), fetch one receipt for reprint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import StreamingResponse

from kugelpos.common.auth.store_scope import StoreCode, TerminalNo
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import render_sort
from kugelpos.common.schemas import TenantId

from ..dependencies import JournalServiceDep, Reader, Writer
from .query import DEFAULT_LIMIT, build_page, build_query
from .schemas import JournalSchema

router = APIRouter(prefix="/api/v1/tenants", tags=["journal"])

_SHORT = Query(max_length=64)


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


@router.post(
    "/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/journals",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[dict[str, Any]],
)
async def receive_journals(
    tenant_id: TenantId,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    body: JournalSchema,
    principal: Writer,
    journals: JournalServiceDep,
) -> ApiResponse[dict[str, Any]]:
    entry = await journals.archive(tenant_id, store_code, terminal_no, body, principal.username)
    return ok(
        entry.snake_case(),
        code=201,
        message=(
            f"Transaction received successfully. tenant_id: {tenant_id}, "
            f"store_code: {store_code}, terminal_no: {terminal_no}"
        ),
        operation="receive_journals",
    )


@router.get(
    "/{tenant_id}/stores/{store_code}/journals",
    response_model=ApiResponse[list[JournalSchema]],
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_journals(
    tenant_id: TenantId,
    store_code: StoreCode,
    principal: Reader,
    journals: JournalServiceDep,
    terminals: Annotated[list[int] | None, Query()] = None,
    transaction_types: Annotated[list[int] | None, Query()] = None,
    business_date_from: Annotated[str | None, _SHORT] = None,
    business_date_to: Annotated[str | None, _SHORT] = None,
    generate_date_time_from: Annotated[str | None, _SHORT] = None,
    generate_date_time_to: Annotated[str | None, _SHORT] = None,
    receipt_no_from: int | None = None,
    receipt_no_to: int | None = None,
    keywords: Annotated[list[str] | None, Query()] = None,
    limit: int = DEFAULT_LIMIT,
    page: int = 1,
    sort: Annotated[str | None, Query(max_length=256)] = None,
    format: Annotated[
        Format, Query(description="json (default) or csv: every match, no paging")
    ] = Format.JSON,
) -> Any:
    query = build_query(
        terminals=terminals,
        transaction_types=transaction_types,
        business_date_from=business_date_from,
        business_date_to=business_date_to,
        generate_date_time_from=generate_date_time_from,
        generate_date_time_to=generate_date_time_to,
        receipt_no_from=receipt_no_from,
        receipt_no_to=receipt_no_to,
        keywords=keywords,
    )
    params = build_page(limit, page, sort)
    if format is Format.CSV:
        filename = f"journal_{tenant_id}_{store_code}.csv"
        return StreamingResponse(
            _encoded(journals.export_csv(tenant_id, store_code, query, params.sort)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    result = await journals.search(tenant_id, store_code, query, params)
    metadata = result.metadata(query.echo())
    metadata.sort = render_sort(params.sort)
    return ok(
        [JournalSchema.of(doc) for doc in result.items],
        message=f"Journals found successfully. tenant_id: {tenant_id}, store_code: {store_code}",
        metadata=metadata,
        operation="get_journals",
    )


async def _encoded(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk.encode("utf-8")


@router.get(
    "/{tenant_id}/stores/{store_code}/terminals/{terminal_no}/receipts/{receipt_no}",
    response_model=ApiResponse[JournalSchema],
)
async def get_receipt(
    tenant_id: TenantId,
    store_code: StoreCode,
    terminal_no: TerminalNo,
    receipt_no: Annotated[int, Path(ge=0, le=2**63 - 1)],
    principal: Reader,
    journals: JournalServiceDep,
    business_date: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
    terminal_id: Annotated[str | None, Query(max_length=128)] = None,
) -> ApiResponse[JournalSchema]:
    """The journal entry of one receipt, for reprint: the latest with that number (on
    `business_date` when given; receipt numbers may restart)."""
    doc = await journals.receipt(tenant_id, store_code, terminal_no, receipt_no, business_date)
    return ok(
        JournalSchema.of(doc),
        message=f"Receipt found. terminal_no: {terminal_no}, receipt_no: {receipt_no}",
        operation="get_receipt",
    )
