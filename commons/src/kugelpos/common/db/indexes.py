"""Index declarations kept next to each repository and created at tenant setup."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import IndexModel


@dataclass(frozen=True, slots=True)
class Index:
    fields: tuple[tuple[str, int], ...]
    unique: bool = False
    expire_after_seconds: int | None = None
    # Documents without the field are left out (a unique key added to documents written
    # before it existed).
    sparse: bool = False

    def model(self, collection: str) -> IndexModel:
        name = f"{collection}_index_" + "_".join(f for f, _ in self.fields)
        options: dict = {"name": name, "unique": self.unique}
        if self.sparse:
            options["sparse"] = True
        if self.expire_after_seconds is not None:
            options["expireAfterSeconds"] = self.expire_after_seconds
        return IndexModel(list(self.fields), **options)


def index(
    *fields: str, unique: bool = False, ttl: int | None = None, sparse: bool = False
) -> Index:
    """`index("tenant_id", "-created_at", unique=True)`: a leading `-` means descending."""
    spec = tuple((f[1:], -1) if f.startswith("-") else (f, 1) for f in fields)
    return Index(spec, unique=unique, expire_after_seconds=ttl, sparse=sparse)
