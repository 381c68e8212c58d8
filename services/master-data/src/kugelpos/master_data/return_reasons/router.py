"""Return reason endpoints: `/api/v1/tenants/{tenant_id}/return-reasons`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import Reader, ReturnReasonServiceDep, Writer, list_params
from ..schemas import display_time
from .documents import ReturnReasonDocument
from .schemas import (
    ReturnReasonCreateRequest,
    ReturnReasonDeleteResponse,
    ReturnReasonResponse,
    ReturnReasonUpdateRequest,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/return-reasons", tags=["return-reasons"])
SORTABLE = frozenset(
    {"reason_code", "description", "restock", "requires_approval", "created_at", "updated_at"}
)
ReasonCode = Annotated[str, Path(max_length=64)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("reason_code", 1)]))]


def _out(doc: ReturnReasonDocument) -> ReturnReasonResponse:
    return ReturnReasonResponse(
        reason_code=doc.reason_code,
        description=doc.description,
        restock=doc.restock,
        requires_approval=doc.requires_approval,
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[ReturnReasonResponse]
)
async def create_return_reason(
    tenant_id: str,
    body: ReturnReasonCreateRequest,
    actor: Writer,
    reasons: ReturnReasonServiceDep,
) -> ApiResponse[ReturnReasonResponse]:
    doc = await reasons.create(actor, tenant_id, body)
    return ok(
        _out(doc),
        code=201,
        message=f"Return reason created successfully. reason_code: {doc.reason_code}",
        operation="create_return_reason",
    )


@router.get("", response_model=ApiResponse[list[ReturnReasonResponse]])
async def get_return_reasons(
    tenant_id: str, _: Reader, reasons: ReturnReasonServiceDep, params: Params
) -> ApiResponse[list[ReturnReasonResponse]]:
    page = await reasons.list(tenant_id, params)
    return ok(
        [_out(d) for d in page.items],
        message="Return reasons retrieved successfully",
        operation="get_return_reasons",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{reason_code}", response_model=ApiResponse[ReturnReasonResponse])
async def get_return_reason(
    tenant_id: str, reason_code: ReasonCode, _: Reader, reasons: ReturnReasonServiceDep
) -> ApiResponse[ReturnReasonResponse]:
    doc = await reasons.get(tenant_id, reason_code)
    return ok(
        _out(doc),
        message=f"Return reason found. reason_code: {reason_code}",
        operation="get_return_reason",
    )


@router.put("/{reason_code}", response_model=ApiResponse[ReturnReasonResponse])
async def update_return_reason(
    tenant_id: str,
    reason_code: ReasonCode,
    body: ReturnReasonUpdateRequest,
    actor: Writer,
    reasons: ReturnReasonServiceDep,
) -> ApiResponse[ReturnReasonResponse]:
    doc = await reasons.update(actor, tenant_id, reason_code, body)
    return ok(
        _out(doc),
        message=f"Return reason updated successfully. reason_code: {reason_code}",
        operation="update_return_reason",
    )


@router.delete("/{reason_code}", response_model=ApiResponse[ReturnReasonDeleteResponse])
async def delete_return_reason(
    tenant_id: str, reason_code: ReasonCode, _: Writer, reasons: ReturnReasonServiceDep
) -> ApiResponse[ReturnReasonDeleteResponse]:
    await reasons.delete(tenant_id, reason_code)
    return ok(
        ReturnReasonDeleteResponse(reason_code=reason_code),
        message=f"Return reason deleted successfully. reason_code: {reason_code}",
        operation="delete_return_reason",
    )
