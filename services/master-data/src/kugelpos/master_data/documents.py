"""Base of the stored master-data documents: tenant key, shard key, exact decimals.

Money and rates are `Decimal` in Python and `Decimal128` in MongoDB, so a price never passes
through a binary float between the API and the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson.decimal128 import Decimal128
from pydantic import BeforeValidator

from kugelpos.common.db.documents import Document


def _from_decimal128(value: Any) -> Any:
    return value.to_decimal() if isinstance(value, Decimal128) else value


StoredDecimal = Annotated[Decimal, BeforeValidator(_from_decimal128)]


def to_bson(value: Any) -> Any:
    """Decimals become Decimal128, recursively (dicts and lists)."""
    if isinstance(value, Decimal):
        return Decimal128(value)
    if isinstance(value, dict):
        return {k: to_bson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_bson(v) for v in value]
    return value


class MasterDocument(Document):
    tenant_id: str
    shard_key: str | None = None

    def to_mongo(self) -> dict:
        raw = super().to_mongo()
        raw["shard_key"] = raw.get("shard_key") or self.tenant_id
        return to_bson(raw)
