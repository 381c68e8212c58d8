"""Base of the stored master-data documents: tenant key, shard key, exact decimals (stored
as doubles, see `kugelpos.common.money`)."""

from __future__ import annotations

from kugelpos.common.money import Money as StoredDecimal
from kugelpos.common.money import MoneyDocument, to_bson

__all__ = ["MasterDocument", "StoredDecimal", "to_bson"]


class MasterDocument(MoneyDocument):
    tenant_id: str
    shard_key: str | None = None

    def to_mongo(self) -> dict:
        raw = super().to_mongo()
        raw["shard_key"] = raw.get("shard_key") or self.tenant_id
        return raw
