"""`GET|PUT /api/v1/tenants/{tenant_id}/card-settings` (expiry per kind) and
`POST /api/v1/tenants/{tenant_id}/expiry/run` (the admin runs today's expiry now)."""

from __future__ import annotations

from fastapi import APIRouter

from kugelpos.common.envelope import ApiResponse, ok

from ..dependencies import Admin, BackOffice, ExpiryServiceDep
from .schemas import CardSettingsRequest, CardSettingsResponse, ExpiryRunResponse

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["expiry"])


@router.get("/card-settings", response_model=ApiResponse[CardSettingsResponse])
async def get_card_settings(
    tenant_id: str, _: BackOffice, expiry: ExpiryServiceDep
) -> ApiResponse[CardSettingsResponse]:
    s = await expiry.settings(tenant_id)
    return ok(
        CardSettingsResponse(
            gift_expiry_days=s.gift_expiry_days, credit_expiry_days=s.credit_expiry_days
        ),
        message="Card settings retrieved",
        operation="get_card_settings",
    )


@router.put("/card-settings", response_model=ApiResponse[CardSettingsResponse])
async def put_card_settings(
    tenant_id: str, body: CardSettingsRequest, caller: Admin, expiry: ExpiryServiceDep
) -> ApiResponse[CardSettingsResponse]:
    s = await expiry.set_settings(
        tenant_id, body.gift_expiry_days, body.credit_expiry_days, caller.subject
    )
    return ok(
        CardSettingsResponse(
            gift_expiry_days=s.gift_expiry_days, credit_expiry_days=s.credit_expiry_days
        ),
        message="Card settings saved",
        operation="put_card_settings",
    )


@router.post("/expiry/run", response_model=ApiResponse[ExpiryRunResponse])
async def run_expiry(
    tenant_id: str, _: Admin, expiry: ExpiryServiceDep
) -> ApiResponse[ExpiryRunResponse]:
    """Expire now what the settings say has expired (the daily run does the same; a card
    expires once, however often this runs)."""
    done = await expiry.expire(tenant_id)
    return ok(
        ExpiryRunResponse(expired_cards=done.cards, breakage=done.breakage),
        message=f"{done.cards} card(s) expired",
        operation="run_expiry",
    )
