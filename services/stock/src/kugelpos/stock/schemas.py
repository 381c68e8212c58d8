"""API models shared by the stock resources: the v1 paged shape (the page inside `data`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from kugelpos.common.envelope import Metadata
from kugelpos.common.pagination import PageParams

MAX_LIMIT = 1000


class PaginatedResult[T](BaseModel):
    data: list[T]
    metadata: Metadata


def paged[T](
    items: list[T],
    *,
    total: int,
    page: int,
    limit: int,
    sort: str | None = None,
    filter_: dict[str, Any] | None = None,
) -> PaginatedResult[T]:
    return PaginatedResult[T](
        data=items,
        metadata=Metadata(total=total, page=page, limit=limit, sort=sort, filter=filter_),
    )


def unpaged[T](items: list[T]) -> PaginatedResult[T]:
    """Low-stock and reorder lists: every row, `page` 1 and `limit` = total."""
    return paged(items, total=len(items), page=1, limit=len(items))


async def stock_page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> PageParams:
    return PageParams(limit=limit, page=page)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
