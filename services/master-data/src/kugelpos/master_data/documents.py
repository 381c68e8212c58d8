"""Base of the stored master-data documents: tenant key, shard key, exact decimals.

Money and rates are `Decimal` in Python and doubles in MongoDB, as v1 stored them. That is
exact, not approximate: API amounts are limited to 15 significant digits (see
`schemas.Money`), and an IEEE double round-trips every decimal of up to 15 significant digits
through its shortest repr, so `Decimal(repr(float(d))) == d`. (Decimal128 would be the other
choice, but the embedded MongoDB cannot size databases holding it, which breaks
`listDatabases` for every service sharing it.) Decimal128 values found in data are read too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson.decimal128 import Decimal128
from pydantic import BeforeValidator

from kugelpos.common.db.documents import Document


def _from_storage(value: Any) -> Any:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


StoredDecimal = Annotated[Decimal, BeforeValidator(_from_storage)]


def to_bson(value: Any) -> Any:
    """Decimals become doubles (exact for <= 15 significant digits), recursively."""
    if isinstance(value, Decimal):
        return float(value)
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
