"""List parameters (`limit`, `page`, `sort=field:1,field2:-1`) and the page they produce."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Query
from pydantic.alias_generators import to_snake

from .envelope import Metadata
from .errors import BadRequestError, ErrorCode

MAX_LIMIT = 1000
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")

type SortSpec = list[tuple[str, int]]


def parse_sort(raw: str | None, allowed: frozenset[str] | None = None) -> SortSpec:
    """Parse `field:1,field2:-1`; camelCase names are accepted and stored snake_case.

    A malformed value is the client's mistake, so it is a 400, never a 500.
    """
    if raw is None or not raw.strip():
        return []
    spec: SortSpec = []
    for part in raw.split(","):
        name, sep, direction = part.strip().partition(":")
        name = name.strip()
        direction = direction.strip() if sep else "1"
        if not _FIELD.fullmatch(name) or direction not in {"1", "-1"}:
            raise BadRequestError(
                f"Invalid sort {part.strip()!r}: expected field:1 or field:-1",
                code=ErrorCode.INVALID_FORMAT,
            )
        snake = to_snake(name)
        if allowed is not None and snake not in allowed:
            raise BadRequestError(
                f"Cannot sort by {name!r}; allowed: {', '.join(sorted(allowed))}",
                code=ErrorCode.INVALID_FORMAT,
            )
        spec.append((snake, int(direction)))
    return spec


def render_sort(spec: SortSpec) -> str:
    return ", ".join(f"{name}:{direction}" for name, direction in spec)


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = 100
    page: int = 1
    sort: SortSpec = field(default_factory=list)

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit if self.limit else 0

    def metadata(self, total: int, filter_: dict[str, Any] | None = None) -> Metadata:
        return Metadata(
            total=total,
            page=self.page,
            limit=self.limit,
            sort=render_sort(self.sort) or None,
            filter=filter_,
        )


async def page_params(
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT, description="page size, 0 = all")] = 100,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sort: Annotated[str | None, Query(max_length=256, description="field:1,field2:-1")] = None,
) -> PageParams:
    """FastAPI dependency; endpoints with a fixed sort whitelist wrap `parse_sort` themselves."""
    return PageParams(limit=limit, page=page, sort=parse_sort(sort))


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: list[T]
    total: int
    params: PageParams

    def metadata(self, filter_: dict[str, Any] | None = None) -> Metadata:
        return self.params.metadata(self.total, filter_)
