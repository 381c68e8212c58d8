"""How a change is stored in `master_change_log`, and the counter its `seq` comes from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from kugelpos.common.jobs import JobRun


class LogKind(StrEnum):
    """What a log entry is about. `store_item` is a store's price of an item; the feed shows it
    to that store as kind `item`."""

    ITEM = "item"
    STORE_ITEM = "store_item"
    CATEGORY = "category"
    TAX = "tax"
    PAYMENT = "payment"
    PROMOTION = "promotion"
    SETTING = "setting"
    STAFF = "staff"
    RETURN_REASON = "return_reason"


class Op(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class ChangeEntry(BaseModel):
    """One change: `data` is the record as it stood after it (None for a physical delete)."""

    model_config = ConfigDict(extra="ignore")

    seq: int
    kind: LogKind
    key: str
    store_code: str | None = None  # a store price's store; None: tenant-wide
    op: Op
    at: datetime
    data: dict[str, Any] | None = None
    # The change brought the record into being (a create): before it there was none, which
    # `prices-at` needs to tell "did not exist then" from "predates the log".
    created: bool = False


class CompactionRun(JobRun):
    """One tenant's compaction of one day (commons.jobs: claimed by one replica)."""

    deleted_entries: int = 0
    before: datetime | None = None  # entries older than this were compacted
