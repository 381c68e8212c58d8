"""User endpoints: v1 `/register`, `/register/user`, and `/users` for tenant admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kugelpos.common.auth.dependencies import CurrentUser
from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams, page_params, parse_sort

from ..dependencies import AccountAdmin, UserServiceDep
from .documents import UserDocument
from .schemas import UserAccount, UserAccountInDB, UserCreate

router = APIRouter(prefix="/api/v1/accounts", tags=["users"])
SORTABLE = frozenset({"username", "created_at", "last_login"})


def _out(user: UserDocument) -> UserAccountInDB:
    return UserAccountInDB.model_validate(user.model_dump(exclude={"hashed_password"}))


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[UserAccountInDB]
)
async def register_super_user(
    body: UserAccount, users: UserServiceDep
) -> ApiResponse[UserAccountInDB]:
    user = await users.register_tenant_admin(body.username, body.password, body.tenant_id)
    return ok(
        _out(user),
        code=201,
        message="User registration successful",  # v1 text, exactly
        operation="register_super_user",
    )


@router.post(
    "/register/user",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiResponse[UserAccountInDB],
)
async def register_user_by_superuser(
    body: UserAccount, users: UserServiceDep, actor: AccountAdmin
) -> ApiResponse[UserAccountInDB]:
    await users.ensure_active_admin(actor)
    user = await users.create_user(
        actor, username=body.username, password=body.password, roles=["user"]
    )
    return ok(
        _out(user),
        code=201,
        message="User registration successful",
        operation="register_user_by_superuser",
    )


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=ApiResponse[UserAccountInDB]
)
async def create_user(
    body: UserCreate, users: UserServiceDep, actor: AccountAdmin
) -> ApiResponse[UserAccountInDB]:
    await users.ensure_active_admin(actor)
    user = await users.create_user(
        actor,
        username=body.username,
        password=body.password,
        roles=[r.value for r in body.roles],
        is_active=body.is_active,
    )
    return ok(_out(user), code=201, message="User created", operation="create_user")


async def _user_page_params(params: Annotated[PageParams, Depends(page_params)]) -> PageParams:
    # Only indexed fields may be sorted on.
    for field_name, _ in params.sort:
        parse_sort(field_name, SORTABLE)
    return params


@router.get("/users", response_model=ApiResponse[list[UserAccountInDB]])
async def list_users(
    users: UserServiceDep,
    actor: CurrentUser,
    params: Annotated[PageParams, Depends(_user_page_params)],
) -> ApiResponse[list[UserAccountInDB]]:
    page = await users.list_users(actor, params)
    return ok(
        [_out(u) for u in page.items],
        message=f"Users of tenant {actor.tenant_id}",
        operation="list_users",
        metadata=page.metadata({"tenant_id": actor.tenant_id}),
    )
