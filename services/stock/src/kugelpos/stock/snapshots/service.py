"""Snapshots (§B6): create from the store's rows, list by an instant range, get by id."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from kugelpos.common.clock import utcnow
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import InvalidInputError

from ..errors import SnapshotNotFoundError
from ..stocks.repository import StockRepository
from .documents import SnapshotDocument, SnapshotItem
from .repository import SnapshotRepository


def parse_bound(value: str | None, timezone: str, *, end: bool) -> datetime | None:
    """An ISO 8601 instant, whatever its offset form (`Z`, `+09:00`, none = app zone); a bare
    date is the start of that day, or for `end_date` its last instant (the day included)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"Invalid date {value!r}: expected ISO 8601, e.g. 2025-01-05T00:00:00+09:00"
        ) from exc
    if len(text) == 10 and end:  # YYYY-MM-DD
        parsed = datetime.combine(parsed.date(), time.max)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed


class SnapshotService:
    def __init__(self, mongo: Mongo, *, timezone: str, max_items: int) -> None:
        self._mongo = mongo
        self._timezone = timezone
        self._max_items = max_items

    def _repo(self, tenant_id: str) -> SnapshotRepository:
        return SnapshotRepository(self._mongo.tenant_db(tenant_id))

    async def create(
        self, tenant_id: str, store_code: str, created_by: str
    ) -> tuple[str, SnapshotDocument]:
        db = self._mongo.tenant_db(tenant_id)
        rows = await StockRepository(db).store_rows(tenant_id, store_code, limit=self._max_items)
        now = utcnow()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON keeps milliseconds
        doc = SnapshotDocument(
            tenant_id=tenant_id,
            store_code=store_code,
            total_items=len(rows),
            total_units=sum(r.current_units for r in rows),
            stocks=[
                SnapshotItem(
                    item_code=r.item_code,
                    quantity_units=r.current_units,
                    minimum_units=r.minimum_units,
                    reorder_point_units=r.reorder_point_units,
                    reorder_quantity_units=r.reorder_quantity_units,
                    average_cost_units=r.average_cost_units,
                )
                for r in rows
            ],
            generate_date_time=now.astimezone(ZoneInfo(self._timezone)).isoformat(),
            generated_at=now,
            created_at=now,
            created_by=created_by,
            shard_key=tenant_id,
        )
        snapshot_id = await self._repo(tenant_id).insert(doc)
        return snapshot_id, doc  # the inserted one (v1 returned the newest, a race)

    async def get(self, tenant_id: str, store_code: str, snapshot_id: str):
        found = await self._repo(tenant_id).by_id(tenant_id, store_code, snapshot_id)
        if found is None:
            raise SnapshotNotFoundError(f"Snapshot not found: {snapshot_id}")
        return found

    async def in_range(
        self,
        tenant_id: str,
        store_code: str,
        start_date: str | None,
        end_date: str | None,
        *,
        page: int,
        limit: int,
    ):
        start = parse_bound(start_date, self._timezone, end=False)
        end = parse_bound(end_date, self._timezone, end=True)
        return await self._repo(tenant_id).in_range(
            tenant_id, store_code, start, end, skip=(page - 1) * limit, limit=limit
        )
