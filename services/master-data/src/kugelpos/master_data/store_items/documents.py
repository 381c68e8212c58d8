"""How a store price is stored in `master_item_store`."""

from __future__ import annotations

from ..documents import MasterDocument, StoredDecimal


class StoreItemDocument(MasterDocument):
    store_code: str
    item_code: str
    store_price: StoredDecimal

    def to_mongo(self) -> dict:
        raw = super().to_mongo()
        raw["shard_key"] = f"{self.tenant_id}_{self.store_code}"
        return raw
