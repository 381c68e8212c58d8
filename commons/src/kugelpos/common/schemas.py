"""API model base: camelCase on the wire, snake_case or camelCase accepted on input."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from .db.mongo import TENANT_ID_PATTERN

# The largest integers MongoDB stores (BSON int32 and int64). Numbers from a request that reach
# a query or a document are bounded by them: above, PyMongo raises OverflowError, a 500 where
# the caller deserves a 422. Counters (open, business) are int32; numbers (transaction,
# receipt) int64, as the journal's schemas have them.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# A tenant id wherever one comes in (path, query, body, event): 1-32 letters, digits or `_`,
# the rule tenants are registered under; it ends up in database names (`db.mongo`, which also
# refuses the reserved names).
TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN.pattern)]


class ApiModel(BaseModel):
    """Base of every request/response schema (kept apart from stored documents)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        str_strip_whitespace=False,
    )


class StrictApiModel(ApiModel):
    """Request bodies that must not silently drop unknown fields."""

    model_config = ConfigDict(extra="forbid")
