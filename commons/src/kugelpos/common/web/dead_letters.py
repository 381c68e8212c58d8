"""`/api/v1/tenants/{tenant_id}/dead-letters`: a consuming service's dead letters (events its
handler kept failing on, see `events.dead_letters`), to list and to replay once the fault is
fixed. Journal, report and stock each mount it with their `EventConsumer`:

    create_app(..., routers=[..., dead_letters_router(events.consumer)])

The tenant's admin only (a user token with the admin role, of the path's tenant): a manager,
a clerk, a terminal or a service is refused with 403, another tenant with 403. A replay applies
the event exactly once (through the inbox); replaying it again changes nothing.

No `from __future__ import annotations` here: FastAPI must see the dependencies' annotations
as objects."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from ..auth.access import ADMIN, allow
from ..auth.dependencies import get_token_principal
from ..auth.principal import Principal
from ..envelope import ApiResponse, ok
from ..events.consumer import EventConsumer, ReplayResult
from ..events.dead_letters import OPEN_STATES, DeadLetter, DeadLetterState
from ..pagination import PageParams, page_params
from ..schemas import ApiModel, TenantId

EventId = Annotated[str, Path(min_length=1, max_length=128)]
StateFilter = Literal["open", "all", "retrying", "dead", "replayed", "resolved", "rejected"]
MAX_REPLAY_BATCH = 500


tenant_admin = allow(ADMIN, source=get_token_principal)
type TenantAdmin = Annotated[Principal, Depends(tenant_admin)]


class DeadLetterSummary(ApiModel):
    event_id: str
    tenant_id: str
    topic: str
    natural_key: str | None = None
    state: DeadLetterState
    attempts: int
    first_failed_at: datetime | None = None
    last_failed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    dead_at: datetime | None = None
    last_error: str | None = None
    replayed_at: datetime | None = None
    replayed_by: str | None = None
    replay_outcome: str | None = None

    @classmethod
    def of(cls, letter: DeadLetter) -> "DeadLetterSummary":
        return cls.model_validate(letter.model_dump(exclude={"payload"}))


class DeadLetterDetail(DeadLetterSummary):
    # The event as it was delivered: what a replay applies.
    payload: dict[str, Any]

    @classmethod
    def of(cls, letter: DeadLetter) -> "DeadLetterDetail":
        return cls.model_validate(letter.model_dump())


class ReplayAnswer(ApiModel):
    event_id: str
    topic: str
    # applied, duplicate, dropped, already_replayed, rejected, failed
    outcome: str
    state: DeadLetterState
    message: str | None = None

    @classmethod
    def of(cls, result: ReplayResult) -> "ReplayAnswer":
        return cls(
            event_id=result.event_id,
            topic=result.topic,
            outcome=result.outcome,
            state=result.state,
            message=result.message,
        )


def _states(state: StateFilter) -> tuple[DeadLetterState, ...]:
    if state == "open":
        return OPEN_STATES
    if state == "all":
        return ()
    return (DeadLetterState(state),)


def dead_letters_router(consumer: EventConsumer) -> APIRouter:
    router = APIRouter(prefix="/api/v1/tenants", tags=["dead letters"])

    @router.get("/{tenant_id}/dead-letters", response_model=ApiResponse[list[DeadLetterSummary]])
    async def list_dead_letters(
        tenant_id: TenantId,
        admin: TenantAdmin,
        params: Annotated[PageParams, Depends(page_params)],
        state: Annotated[
            StateFilter, Query(description="open (retrying or dead, the default), all, or one")
        ] = "open",
    ) -> ApiResponse[list[DeadLetterSummary]]:
        page = await consumer.dead_letters(tenant_id, params, states=_states(state))
        return ok(
            [DeadLetterSummary.of(letter) for letter in page.items],
            metadata=page.metadata({"state": state}),
            operation="list_dead_letters",
        )

    @router.get(
        "/{tenant_id}/dead-letters/{event_id}", response_model=ApiResponse[DeadLetterDetail]
    )
    async def get_dead_letter(
        tenant_id: TenantId, event_id: EventId, admin: TenantAdmin
    ) -> ApiResponse[DeadLetterDetail]:
        letter = await consumer.dead_letter(tenant_id, event_id)
        return ok(DeadLetterDetail.of(letter), operation="get_dead_letter")

    @router.post(
        "/{tenant_id}/dead-letters/{event_id}/replay", response_model=ApiResponse[ReplayAnswer]
    )
    async def replay_dead_letter(
        tenant_id: TenantId, event_id: EventId, admin: TenantAdmin
    ) -> ApiResponse[ReplayAnswer]:
        result = await consumer.replay(tenant_id, event_id, actor=admin.username)
        return ok(
            ReplayAnswer.of(result),
            message=f"Dead letter {event_id}: {result.outcome}",
            operation="replay_dead_letter",
        )

    @router.post("/{tenant_id}/dead-letters/replay", response_model=ApiResponse[list[ReplayAnswer]])
    async def replay_dead_letters(
        tenant_id: TenantId,
        admin: TenantAdmin,
        limit: Annotated[int, Query(ge=1, le=MAX_REPLAY_BATCH)] = 100,
    ) -> ApiResponse[list[ReplayAnswer]]:
        results = await consumer.replay_all(tenant_id, actor=admin.username, limit=limit)
        return ok(
            [ReplayAnswer.of(result) for result in results],
            message=f"{len(results)} dead letters replayed",
            operation="replay_dead_letters",
        )

    return router
