"""Tenant setup: create each repository's collection indexes in the tenant database."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.asynchronous.database import AsyncDatabase

from .repository import Repository


async def ensure_collections(db: AsyncDatabase, repositories: Iterable[type[Repository]]) -> None:
    """Idempotent, so tenant setup can be retried safely."""
    for repository in repositories:
        await repository.ensure_indexes(db)
