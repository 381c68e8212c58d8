"""Persistence of transactions, their status and the numbering counters, with their indexes."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from kugelpos.common.clock import utcnow
from kugelpos.common.db.indexes import index
from kugelpos.common.db.repository import Repository

from .documents import TerminalCounterDocument, TranlogDocument, TransactionStatusDocument

TRANSACTION = "Transaction"
RECEIPT = "Receipt"


class TranlogRepository(Repository[TranlogDocument]):
    collection_name = "log_tran"
    document_type = TranlogDocument
    indexes = (
        index("tenant_id", "store_code", "terminal_no", "transaction_no", unique=True),
        index("source_id", unique=True),
        index("tenant_id", "store_code", "terminal_no", "business_date", "open_counter"),
        index("tenant_id", "store_code", "terminal_no", "receipt_no"),
        index("tenant_id", "store_code", "terminal_no", "generate_date_time"),
    )
    default_sort = (("transaction_no", -1),)


def status_key(tenant_id: str, store_code: str, terminal_no: int, transaction_no: int) -> dict:
    return {
        "tenant_id": tenant_id,
        "store_code": store_code,
        "terminal_no": terminal_no,
        "transaction_no": transaction_no,
    }


class TransactionStatusRepository(Repository[TransactionStatusDocument]):
    collection_name = "status_tran"
    document_type = TransactionStatusDocument
    indexes = (index("tenant_id", "store_code", "terminal_no", "transaction_no", unique=True),)

    async def ensure(self, key: dict[str, Any]) -> None:
        """The sale's status document, created empty if it does not exist yet (outside the
        transaction that claims it: a duplicate key inside a transaction aborts it)."""
        now = utcnow()
        # A concurrent first claim may create it first.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                key,
                {
                    "$setOnInsert": {
                        "created_at": now,
                        "created_by": self.actor,
                        "is_voided": False,
                        "is_refunded": False,
                        "return_version": 0,
                    }
                },
                upsert=True,
            )

    async def claim(
        self,
        key: dict[str, Any],
        flag: str,
        changes: dict[str, Any],
        *,
        also_not: str | None = None,
        without_returns: bool = False,
        session: AsyncClientSession | None = None,
    ) -> bool:
        """Set `flag` (is_voided / is_refunded) only if it is not set yet (and `also_not` is
        not set either, and with `without_returns` no unit is returned): one atomic
        conditional update of the status `ensure` created, so of two concurrent voids exactly
        one wins. False when the flag (or `also_not`) was already set. Run in the transaction
        that records the reversal, so a claim never outlives a reversal that was not
        recorded."""
        filter_: dict[str, Any] = {**key, flag: {"$ne": True}}
        if also_not:
            filter_[also_not] = {"$ne": True}
        if without_returns:
            filter_["returned_units"] = {"$in": [None, 0]}
        update = {"$set": {flag: True, **changes, "updated_at": utcnow(), "updated_by": self.actor}}
        result = await self.collection.update_one(filter_, update, session=session)
        return result.modified_count == 1

    async def claim_return(
        self,
        key: dict[str, Any],
        *,
        version: int,
        returned: dict[int, int],
        units: int,
        entry: dict[str, Any],
        all_back: bool,
        changes: dict[str, Any],
        session: AsyncClientSession | None = None,
    ) -> bool:
        """Record a (partial) return on the sale's status if nothing changed it since it was
        read at `version` (and it is neither voided nor fully returned): one conditional
        update, so of concurrent returns of the last unit exactly one claims it; the others
        read again and find nothing left. `returned` is the quantities after this return."""
        now = utcnow()
        filter_ = {
            **key,
            "is_voided": {"$ne": True},
            "is_refunded": {"$ne": True},
            "return_version": version if version else {"$in": [None, 0]},
        }
        update = {
            "$set": {
                "returned_quantities": {str(n): q for n, q in returned.items()},
                "is_refunded": all_back,
                **changes,
                "updated_at": now,
                "updated_by": self.actor,
            },
            "$inc": {"return_version": 1, "returned_units": units},
            "$push": {"returns": entry},
        }
        result = await self.collection.update_one(filter_, update, session=session)
        return result.modified_count == 1

    async def give_back(
        self,
        key: dict[str, Any],
        quantities: dict[int, int],
        entry: dict[str, int],
        *,
        session: AsyncClientSession | None = None,
    ) -> None:
        """A voided (or failed) return's units become returnable again (and what it refunded
        by each tender, kept in its entry, goes with it). `entry`: its terminal_no and
        transaction_no; at most once, since the entry is pulled by the same update."""
        inc: dict[str, int] = {f"returned_quantities.{n}": -q for n, q in quantities.items()}
        inc["returned_units"] = -sum(quantities.values())
        inc["return_version"] = 1
        await self.collection.update_one(
            {**key, "returns": {"$elemMatch": entry}},
            {
                "$inc": inc,
                "$set": {"is_refunded": False, "updated_at": utcnow(), "updated_by": self.actor},
                "$pull": {"returns": entry},
            },
            session=session,
        )

    async def unset(
        self, key: dict[str, Any], changes: dict[str, Any], *, only_if: dict | None = None
    ) -> None:
        await self.collection.update_one(
            {**key, **(only_if or {})}, {"$set": {**changes, "updated_at": utcnow()}}
        )


class CounterRepository(Repository[TerminalCounterDocument]):
    collection_name = "info_terminal_counter"
    document_type = TerminalCounterDocument
    indexes = (index("terminal_id", unique=True),)

    async def next_numbers(
        self, terminal_id: str, *, session: AsyncClientSession | None = None
    ) -> tuple[int, int]:
        """(transaction sequence, receipt sequence), both taken in one atomic `$inc`: no two
        callers ever get the same numbers, however many bill at once."""
        now = utcnow()
        for _ in range(3):
            try:
                raw = await self.collection.find_one_and_update(
                    {"terminal_id": terminal_id},
                    {
                        "$inc": {f"count_dic.{TRANSACTION}": 1, f"count_dic.{RECEIPT}": 1},
                        "$set": {"last_used_at": now, "updated_at": now},
                        "$setOnInsert": {"created_at": now},
                    },
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    projection={"_id": False, "count_dic": True},
                    session=session,
                )
            except DuplicateKeyError:
                continue  # two first-ever increments raced on the upsert; the doc exists now
            counts = raw["count_dic"]
            return int(counts[TRANSACTION]), int(counts[RECEIPT])
        raise RuntimeError(f"counter of {terminal_id} could not be incremented")


TENANT_REPOSITORIES = (TranlogRepository, TransactionStatusRepository, CounterRepository)
