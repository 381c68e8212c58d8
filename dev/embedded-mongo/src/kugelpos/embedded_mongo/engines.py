"""mongoeco's engines with unique-index checks that do not grow with the collection.

mongoeco 4.11 checks a compound unique index (and every insert's `_id`) by reading and decoding
every document of the collection in Python, so each insert costs time in proportion to what the
collection already holds: measured here, a bill's transaction (tranlog + outbox) took 28 ms with
500 earlier sales and 104 ms with 2,000 on the memory engine, 45 ms and 179 ms on SQLite. A
store's till, journal, report and stock would slow down through the day and the next.

The engines below answer the same question from an index instead, for the case that every
index the services declare is in: the candidate's indexed fields are present, not null, and
reached without crossing an array; the index has no collation; no stored document of the
collection holds an array on those paths. Anything else goes to mongoeco's own check, unchanged.
The result is the same: the candidates an index lookup finds are confirmed with mongoeco's own
equality (the index key mongoeco compares), and the error raised is mongoeco's.

- memory: `_id: {$in: [...]}` is answered from the storage keys, as a single `_id` already is
  (the outbox relay claims and marks its batches that way).
- memory: the engine keeps a hash map per index already (its single-field checks use it); a
  compound index's map is keyed like the candidate's key as long as no document is multikey on
  it, which is tracked exactly where the maps are filled.
- memory: a filter setting every field of a compound index equal to a string or an ObjectId
  (an upsert by a compound key) takes its candidates from that index's map; mongoeco's plan
  uses single-field indexes only and matched every document of the collection.
- SQLite: every ordered index is a SQLite expression index over (db, collection, type, value of
  each field); a lookup on those expressions finds the candidates. Whether stored documents hold
  arrays on the indexed paths is asked once per index and process, then kept up to date from the
  candidates themselves (every write of a document passes through this check) and forgotten on
  any index or collection change.

Queries: mongoeco's SQL filters a field as `json_extract(document, '$.field') = ?`, while its
own expression indexes are built on other expressions, so an equality filter read every
document of the collection (a relay's mark by `event_id` took 20 ms in a 5,000-event outbox).
Each declared index also gets a SQLite index on exactly the expressions the filters use.
`_id` filters go to the storage key (the primary key), `$in` of strings on a top-level
field without stored arrays is a plain `IN` on that expression, an equality on a top-level
field with its own index and no stored array is mongoeco's scalar-only translation (not ORed
with a correlated EXISTS on the multikey table), and `$in` of nothing matches nothing (see
"filters by key"). Both engines: a long `$in` matches from a set, not value by value (see
`_node_to_code`).

The SQLite engine also keeps no change log: mongoeco copies every written document into a
`change_outbox` table for change streams and, after each write outside a transaction, takes a
lease and starts a thread to deliver it (a bill's transaction took 6.3 ms with it, 2.6 without).
No service opens a change stream, and the embedded stack does not offer them.

A stored value of the Decimal128 family equal to a plain number is not found by the SQLite
lookup (MongoDB would call them equal); no unique index the services declare holds a number
of that family (money is stored as doubles, sums as integers), and a candidate that is a
Decimal itself takes mongoeco's path.

Comparisons: MongoDB's `$gt`, `$gte`, `$lt` and `$lte` match only values of the query value's
type bracket (numbers with numbers, strings with strings...): `{receipt_no: {$lte: 10}}` does
not match a null `receipt_no`. mongoeco's Python matcher (the memory engine's, and the SQLite
engine's when it cannot answer in SQL) compares across brackets in BSON order, so a null
matched every `$lt`/`$lte`; `_comparison_in_bracket` keeps a comparison within its bracket
(MinKey and MaxKey compare with everything, as in MongoDB).
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import functools
import hashlib
import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

import mongoeco.engines.sqlite as mongoeco_sqlite
from bson import ObjectId
from mongoeco.api._async._collection_runtime import CollectionRuntimeCoordinator
from mongoeco.compat import MONGODB_DIALECT_70
from mongoeco.compat.base import _bson_type_rank
from mongoeco.core._filtering_matching import FilteringMatchingMixin
from mongoeco.core.bson_ordering import SQLITE_SORT_BUCKET_WEIGHTS
from mongoeco.core.bson_scalars import unwrap_bson_numeric
from mongoeco.core.codec import DocumentCodec
from mongoeco.core.compiled_query import CompiledQuery
from mongoeco.core.filtering import QueryEngine
from mongoeco.core.query_plan import (
    AndCondition,
    EqualsCondition,
    GreaterThanCondition,
    GreaterThanOrEqualCondition,
    InCondition,
    LessThanCondition,
    LessThanOrEqualCondition,
)
from mongoeco.engines._sqlite_plan_heuristics import sort_requires_python
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.engines.sqlite_query import (
    SQLiteQueryTranslator,
    index_expressions_sql,
    json_path_for_field,
    translate_query_plan,
    type_expression_sql,
    value_expression_sql,
)
from mongoeco.engines.virtual_indexes import document_in_virtual_index, is_virtual_index

from kugelpos.embedded_mongo import admin as mongo_admin

# Values whose equality an index key decides on its own (no arrays, sub-documents or nulls).
_SCALARS = (str, int, float, datetime.datetime, ObjectId)
# Stored type tags a number may carry besides a plain JSON number.
_NUMERIC_TAGS = ("", "int64")

_MISSING = object()


def scalar_at(document: Mapping[str, Any], field: str) -> Any:
    """The value at a dotted path if it is a plain scalar reached through sub-documents only,
    else `_MISSING` (absent, null, an array on the way, a sub-document or an exotic type)."""
    current: Any = document
    for part in field.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
        if isinstance(current, (list, tuple)):
            return _MISSING
    if current is None or not isinstance(current, _SCALARS):
        return _MISSING
    return current


def has_array_on_path(document: Mapping[str, Any], field: str) -> bool:
    current: Any = document
    for part in field.split("."):
        if isinstance(current, (list, tuple)):
            return True
        if not isinstance(current, Mapping) or part not in current:
            return False
        current = current[part]
    return isinstance(current, (list, tuple))


def _id_in_values(plan: Any) -> tuple[Any, ...] | None:
    """The values of a top-level `_id: {$in: [...]}` of plain ids (strings, ObjectIds), alone
    or in an `$and`; None for any other plan."""
    clauses = plan.clauses if isinstance(plan, AndCondition) else (plan,)
    for clause in clauses:
        if (
            isinstance(clause, InCondition)
            and clause.field == "_id"
            and all(isinstance(value, (str, ObjectId)) for value in clause.values)
        ):
            return tuple(clause.values)
    return None


def _plain_id(document: Mapping[str, Any]) -> bool:
    """An `_id` equal to another exactly when their storage keys are equal (no numbers inside)."""
    value = document.get("_id", _MISSING)
    return isinstance(value, (str, ObjectId))


# Values an index key files exactly as the filter compares them (no numeric cross-type equality).
_EXACT_KEYS = (str, ObjectId)

# SQLite refuses expressions deeper than 1,000; mongoeco's multikey `$in` adds a level a value.
_LONGEST_MULTIKEY_IN = 200


class IndexedUniqueMemoryEngine(MemoryEngine):
    """MemoryEngine whose compound unique checks and `_id` checks use its own hash maps, and
    which captures no change events (no service opens a change stream)."""

    capabilities = dataclasses.replace(MemoryEngine.capabilities, change_delivery="none")
    kugelpos_no_change_events = True  # read by `_publish_change_event` below

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (db, collection, index name): some document filed in the index's map was multikey,
        # so the map no longer holds every key of it. Never cleared: a stale mark only costs
        # a slow check.
        self._multikey: set[tuple[str, str, str]] = set()
        self._multikey_names: set[str] = set()

    def _note_multikey(self, db_name: str, coll_name: str, index: Any, document: Any) -> None:
        fields = index["fields"]
        if len(fields) > 1 and any(has_array_on_path(document, f) for f in fields):
            self._multikey.add((db_name, coll_name, str(index["name"])))
            self._multikey_names.add(str(index["name"]))

    def _rebuild_index_data_locked(self, db_name, coll_name, index, **kwargs):  # type: ignore[override]
        storage_view = kwargs.get("storage_view")
        storage = self._storage if storage_view is None else storage_view
        for data in storage.get(db_name, {}).get(coll_name, {}).values():
            self._note_multikey(db_name, coll_name, index, self._borrow_storage_document(data))
        return super()._rebuild_index_data_locked(db_name, coll_name, index, **kwargs)

    def _update_indexes_locked(self, db_name, coll_name, storage_key, document, **kwargs):  # type: ignore[override]
        if kwargs.get("action", "insert") == "insert":
            indexes_view = kwargs.get("indexes_view")
            indexes = self._indexes if indexes_view is None else indexes_view
            for index in indexes.get(db_name, {}).get(coll_name, []):
                self._note_multikey(db_name, coll_name, index, document)
        return super()._update_indexes_locked(db_name, coll_name, storage_key, document, **kwargs)

    def _candidate_items_for_plan_locked(self, coll, query_plan, **kwargs):  # type: ignore[override]
        # `_id: {$in: [...]}` (the outbox relay's batches) is answered from the storage keys,
        # as a single `_id` already is; the caller matches the whole filter on what it gets.
        ids = _id_in_values(query_plan)
        if ids is not None:
            keys = {self._storage_key(value) for value in ids}
            found = [key for key in keys if key in coll]
            ordered = getattr(coll, "ordered_keys", None)
            if callable(ordered):
                found = list(ordered(set(found)))
            return [(key, coll[key]) for key in found]
        found = self._compound_equality_candidates(coll, query_plan, **kwargs)
        if found is not None:
            return found
        return super()._candidate_items_for_plan_locked(coll, query_plan, **kwargs)

    def _compound_equality_candidates(
        self, coll: Any, query_plan: Any, **kwargs: Any
    ) -> list[tuple[Any, Any]] | None:
        """The documents filed under one key of a compound index whose every field the filter
        sets equal to a string or an ObjectId (None: no such index, mongoeco's own plan).

        mongoeco's memory plan uses single-field indexes only, so an upsert or a find by a
        compound key (a count line by tenant, count, item and zone) read and matched every
        document of the collection: a 1,000-line entry of a count took 4 s with none stored,
        10 s with 1,000, 17 s with 2,000. A document equal to those values on every field is
        filed under exactly that key while no document is multikey on the index, the index
        is neither sparse nor partial and has no collation; the caller matches the whole
        filter on what this returns, as on mongoeco's own candidates."""
        if kwargs.get("collation") is not None:
            return None
        clauses = query_plan.clauses if isinstance(query_plan, AndCondition) else (query_plan,)
        equal: dict[str, Any] = {}
        for clause in clauses:
            if (
                isinstance(clause, EqualsCondition)
                and not clause.null_matches_undefined
                and isinstance(clause.value, _EXACT_KEYS)
            ):
                equal.setdefault(clause.field, clause.value)
        if len(equal) < 2:
            return None
        index_data = kwargs.get("index_data") or {}
        best: tuple[Any, tuple[Any, ...]] | None = None
        for index in kwargs.get("indexes") or ():
            fields = index["fields"]
            if (
                len(fields) < 2
                or any(field not in equal for field in fields)
                or index.get("collation") is not None
                or is_virtual_index(index)
                or (best is not None and len(best[1]) >= len(fields))
            ):
                continue
            index_map = index_data.get(index["name"])
            if index_map is None or self._multikey_index(index):
                continue
            best = (index_map, tuple(fields))
        if best is None:
            return None
        index_map, fields = best
        key = tuple(self._index_equality_key(equal[field]) for field in fields)
        keys = set(index_map.get(key, ()))
        ordered = getattr(coll, "ordered_keys", None)
        if callable(ordered):
            found = list(ordered(keys, limit=kwargs.get("natural_order_limit")))
        else:
            found = [k for k in coll if k in keys]
        return [(k, coll[k]) for k in found]

    def _multikey_index(self, index: Any) -> bool:
        # The plan does not say which database and collection it runs on: an index of that
        # name marked multikey anywhere keeps mongoeco's plan (slower, never wrong).
        return str(index["name"]) in self._multikey_names

    def _ensure_unique_indexes(  # type: ignore[override]
        self,
        db_name: str,
        coll_name: str,
        candidate: Any,
        *,
        exclude_storage_key: Any | None = None,
        indexes_view: dict | None = None,
        storage_view: dict | None = None,
        index_data_view: dict | None = None,
        check_id_storage: bool = False,
        scan_payload_id: bool = False,
    ) -> None:
        coll = (
            (self._storage if storage_view is None else storage_view)
            .get(db_name, {})
            .get(coll_name, {})
        )
        exclude = exclude_storage_key
        if exclude is not None and exclude not in coll:
            exclude = self._storage_key(exclude)
        if scan_payload_id and _plain_id(candidate):
            # The payload scan compares `_id`s by value; for a string or an ObjectId that is
            # the storage key itself, so one lookup answers it.
            scan_payload_id = False
            key = self._storage_key(candidate["_id"])
            if key in coll and key != exclude:
                raise self._unique_key_error(
                    f"Duplicate key: _id={candidate['_id']}", f"{db_name}.{coll_name}", candidate
                )
        indexes = (
            (self._indexes if indexes_view is None else indexes_view)
            .get(db_name, {})
            .get(coll_name, [])
        )
        maps = (
            (self._index_data if index_data_view is None else index_data_view)
            .get(db_name, {})
            .get(coll_name, {})
        )
        checked: set[int] = set()
        for index in indexes:
            fields = index["fields"]
            if not index.get("unique") or len(fields) < 2 or index.get("collation") is not None:
                continue
            index_map = maps.get(index["name"])
            if index_map is None or (db_name, coll_name, str(index["name"])) in self._multikey:
                continue
            if not document_in_virtual_index(candidate, index):
                checked.add(id(index))
                continue
            if any(scalar_at(candidate, field) is _MISSING for field in fields):
                continue
            key = self._index_key(candidate, fields)
            matches = index_map.get(key)
            if matches and any(match != exclude for match in matches):
                raise self._unique_key_error(
                    f"Duplicate key for unique index '{index['name']}': {fields}={key!r}",
                    f"{db_name}.{coll_name}",
                    candidate,
                    index=index,
                    conflict=key,
                )
            checked.add(id(index))
        if checked:
            rest = [index for index in indexes if id(index) not in checked]
            indexes_view = {db_name: {coll_name: rest}}
        super()._ensure_unique_indexes(
            db_name,
            coll_name,
            candidate,
            exclude_storage_key=exclude_storage_key,
            indexes_view=indexes_view,
            storage_view=storage_view,
            index_data_view=index_data_view,
            check_id_storage=check_id_storage,
            scan_payload_id=scan_payload_id,
        )


# Conditions on a string whose SQL form is exact for plain (non-array) fields.
_STRING_OPERATORS: dict[type, str] = {
    EqualsCondition: "=",
    GreaterThanCondition: ">",
    GreaterThanOrEqualCondition: ">=",
    LessThanCondition: "<",
    LessThanOrEqualCondition: "<=",
}

# What mongoeco's sort check (`sort_requires_python`) looks for in an object's tagged type.
_WIDE_OR_PLAIN = "('', 'int64', 'decimal', 'decimal128', 'decimal128_public')"


def sort_type_sql(field: str) -> str:
    """mongoeco's sort bracket of a field (`sort_type_expression_sql`), the same value from a
    simple CASE: SQLite 3.40 parses the whole document at each JSON function call, and
    mongoeco's searched CASE calls `json_type` up to five times per key before it reaches
    "text", for every row it sorts (a journal search over 50,000 entries sorted 600 rows in
    460 ms). Here the field's type is read once, a tagged object's type once more."""
    path = _path_literal(field)
    tag = _sql_string(_tag_path(field))
    w = SQLITE_SORT_BUCKET_WEIGHTS
    tagged = " ".join(
        f"WHEN '{name}' THEN {w[name]}"
        for name in ("binary", "uuid", "objectid", "datetime", "timestamp", "regex")
    )
    return (
        f"CASE json_type(document, {path}) "
        f"WHEN 'null' THEN {w['null']} "
        f"WHEN 'integer' THEN {w['number']} WHEN 'real' THEN {w['number']} "
        f"WHEN 'text' THEN {w['string']} "
        f"WHEN 'array' THEN {w['array']} "
        f"WHEN 'true' THEN {w['bool']} WHEN 'false' THEN {w['bool']} "
        f"WHEN 'object' THEN (CASE json_extract(document, {tag}) {tagged} "
        f"ELSE (CASE WHEN json_extract(document, {tag}) IS NULL "
        f"THEN {w['plain-object']} ELSE {w['fallback']} END) END) "
        f"ELSE {w['null']} END"  # json_type is NULL: the field is missing
    )


class CheaperSortTranslator(SQLiteQueryTranslator):
    """mongoeco's SQL translation with `sort_type_sql` as each sort key's bracket."""

    def translate_sort_spec(self, sort: Any) -> str:
        if not sort:
            return ""
        parts: list[str] = []
        for field, direction in sort:
            order = "ASC" if direction == 1 else "DESC"
            parts.append(f"{sort_type_sql(field)} {order}")
            parts.append(f"{value_expression_sql(field)} {order}")
        return " ORDER BY " + ", ".join(parts)


class IndexedUniqueSQLiteEngine(SQLiteEngine):
    """SQLiteEngine whose unique checks look candidates up in its expression indexes, whose
    collection features are kept up to date from the documents written since they were read,
    and which keeps no change-stream log."""

    capabilities = dataclasses.replace(SQLiteEngine.capabilities, change_delivery="none")
    kugelpos_no_change_events = True  # read by `_publish_change_event` below

    async def _run_blocking(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        # mongoeco hands every SQLite job to a worker thread and waits for it: a thread switch,
        # a self-pipe write and a loop wake-up per job, for jobs that take well under a
        # millisecond. Here each wire server serves one service and its gate runs one
        # transaction at a time, so the jobs run inline on the loop (a stock event: 19.8 ->
        # 16.5 ms of server CPU, 27.6 -> 22.6 ms wall). The context is copied as mongoeco does,
        # so a job's context variables never leak into the command that awaited it.
        return contextvars.copy_context().run(functools.partial(func, *args, **kwargs))

    def _create_sqlite_connection(self):  # type: ignore[override]
        connection = super()._create_sqlite_connection()
        connection.kugelpos_no_change_log = True  # read by `_append_change` below
        return connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sql_translator = CheaperSortTranslator()
        self._decode_takes_wrappers: dict[int, bool] = {}
        self._scan_plan: tuple[str, str, Any] | None = None
        # (db, collection, index name) -> some stored document holds an array on its paths.
        self._array_paths: dict[tuple[str, str, str], bool] = {}
        self._probe_sql: dict[tuple[str | int, ...], str] = {}
        # feature key -> (value, last `kp_touched` sequence it accounts for).
        self._features: dict[tuple[str, str, str], tuple[bool, int]] = {}

    # -- filters by key -------------------------------------------------------------------------
    # mongoeco filters `_id` through the JSON document (its storage key, the table's primary
    # key, is not used: an outbox acknowledgement's update by `_id` read all 10,000 records,
    # 28 ms), and translates `$in` as an array-aware `EXISTS (json_each ...)` per value that no
    # index serves (an acknowledgement batch's read by `event_id $in`: 46 ms, growing with the
    # outbox through the day). `_id` is never an array; for another top-level field, strings
    # alone and no stored array there (a tracked feature), `$in` is a plain `IN` on the indexed
    # expression. Anything else is mongoeco's own translation.

    def _translate_query_plan_with_multikey(self, db_name, coll_name, plan):  # type: ignore[override]
        if isinstance(plan, EqualsCondition) and plan.field == "_id":
            if isinstance(plan.value, (str, ObjectId)):
                return "documents.storage_key = ?", [self._storage_key(plan.value)]
        elif (
            isinstance(plan, EqualsCondition)
            and "." not in plan.field
            and self._find_multikey_index(db_name, coll_name, plan.field) is not None
            and not self._field_is_top_level_array_in_collection(db_name, coll_name, plan.field)
        ):
            # mongoeco ORs an equality on a field with its own index with an EXISTS on the
            # multikey table, correlated per row and served by (collection, index) only: an
            # update of a stock row by (tenant, store, item) read every row of the store
            # and, for each, every entry of the item index (a 1,000-line receipt took 29 s
            # with 4,000 rows stored, a fifth ran past 120 s). With no array stored on the
            # field the EXISTS adds nothing: mongoeco's own scalar-only translation, which
            # the declared index's expressions serve.
            return mongoeco_sqlite._translate_equals_scalar_only(
                plan.field, plan.value, null_matches_undefined=plan.null_matches_undefined
            )
        elif isinstance(plan, InCondition) and not plan.values:
            # `$in: []` matches nothing; mongoeco's translation is `IN ()`, a syntax error
            # (a count opened with nothing counted yet read its rows by an empty list: 500).
            return "0", []
        elif isinstance(plan, InCondition) and not plan.null_matches_undefined:
            values = plan.values
            if plan.field == "_id" and all(isinstance(v, (str, ObjectId)) for v in values):
                marks = ", ".join("?" * len(values))
                return f"documents.storage_key IN ({marks})", [self._storage_key(v) for v in values]
            if (
                "." not in plan.field
                and plan.field != "_id"
                and all(type(v) is str for v in values)
                and (
                    # mongoeco's plan through a multikey index ORs one SQL term per value,
                    # past SQLite's expression depth for long lists; with no array stored on
                    # the field (checked next) a plain IN answers the same.
                    len(values) > _LONGEST_MULTIKEY_IN
                    or self._find_multikey_index(db_name, coll_name, plan.field) is None
                )
                and not self._field_is_top_level_array_in_collection(db_name, coll_name, plan.field)
            ):
                return _plain_in(plan.field, values, "'text'")
            if (
                len(values) > _LONGEST_MULTIKEY_IN
                and "." not in plan.field
                and plan.field != "_id"
                and all(_is_number(v) and v == v for v in values)  # v == v: not NaN
                and not self._field_is_top_level_array_in_collection(db_name, coll_name, plan.field)
            ):
                # Numbers: mongoeco's plan is, per value, its scalar equality (an integer or a
                # double of that value: MongoDB's 2 equals 2.0) OR the same inside an array;
                # with no array stored on the field the second never holds, and the first for
                # every value is one IN. Only where mongoeco itself answers by SQL: where it
                # declines a numeric filter, its translation raises NotImplementedError here and
                # its Python matcher answers, as before.
                super()._translate_query_plan_with_multikey(db_name, coll_name, plan)
                return _plain_in(plan.field, values, "'integer', 'real'")
        return super()._translate_query_plan_with_multikey(db_name, coll_name, plan)

    # -- collection features ------------------------------------------------------------------
    # A query's plan asks whether the collection holds arrays, Decimal128s, values of another
    # type... on the queried fields (`_collection_features_cache`), and mongoeco forgets every
    # answer of a collection at each write to it, so the next read scans the collection again
    # (12 scans for a find on a three-field key). The answers below are "does any document have
    # X"; a write can only add documents that have it (a delete only makes a True stale, which
    # costs a slower plan, never a wrong one), so each answer is brought up to date from the
    # documents written since (a table filled by triggers, exact whatever path wrote
    # them). A rollback still forgets everything, as mongoeco does.

    def _connect_sync(self) -> None:
        first = self._connection is None
        super()._connect_sync()
        if first and self._connection is not None:
            with self._lock:
                for statement in _TOUCH_LOG:
                    self._connection.execute(statement)
                self._connection.commit()
                self._features.clear()
            self._ensure_filter_indexes()

    def _invalidate_collection_features_cache(  # type: ignore[override]
        self, db_name: str | None = None, coll_name: str | None = None
    ) -> None:
        if db_name is None or coll_name is None:
            self._features.clear()
        super()._invalidate_collection_features_cache(db_name, coll_name)

    def _feature(
        self,
        key: tuple[str, str, str],
        full: Any,
        predicate: str,
        params: tuple[Any, ...] = (),
    ) -> bool:
        conn = self._require_connection()
        first, last = conn.execute(_TOUCH_BOUNDS).fetchone()
        last = last or 0
        known = self._features.get(key)
        if known is not None and known[1] >= (first or 1) - 1:
            value, seen = known
            if not value and last > seen:
                sql = (
                    "SELECT 1 FROM kp_touched AS t CROSS JOIN documents AS d "  # noqa: S608
                    "ON d.db_name = t.db_name AND d.coll_name = t.coll_name "
                    "AND d.storage_key = t.storage_key "
                    f"WHERE t.seq > ? AND t.db_name = ? AND t.coll_name = ? AND ({predicate}) "
                    "LIMIT 1"
                )
                row = conn.execute(sql, (seen, key[0], key[1], *params)).fetchone()
                value = row is not None
        else:
            value = bool(full())
        self._features[key] = (value, last)
        return value

    def _decode_codec_payload(self, payload: Any, *, preserve_bson_wrappers: bool) -> Any:  # type: ignore[override]
        # mongoeco asks `inspect.signature` of its codec's `decode` for every document it
        # decodes (every one holding a date, i.e. nearly all: 20 % of a scan's time); the
        # answer is the codec's, asked once.
        decode = self._codec.decode
        takes = self._decode_takes_wrappers.get(id(self._codec))
        if takes is None:
            try:
                takes = "preserve_bson_wrappers" in inspect.signature(decode).parameters
            except (TypeError, ValueError):
                takes = False
            self._decode_takes_wrappers[id(self._codec)] = takes
        if not takes:
            return decode(payload)
        return decode(payload, preserve_bson_wrappers=preserve_bson_wrappers)

    # -- prefiltered Python scans ----------------------------------------------------------
    # A filter mongoeco cannot translate as a whole (a `$regex` next to equalities: the
    # journal's keyword search) is answered by decoding every document of the collection in
    # Python (1.2 s over 50,000 journal entries). Its comparisons with plain strings (the
    # tenant, the store, a date range) narrow the scan first, through the same SQL (and
    # indexes) an exact query would use; mongoeco then applies the whole filter, sort and
    # window to what is left, exactly as before.

    def _open_scan_documents_sync(self, reader: Any) -> Any:  # type: ignore[override]
        # Only noted here: most scans are answered in SQL and never load the collection.
        semantics = reader.semantics
        if semantics.collation is None:  # a collation may make other strings equal
            self._scan_plan = (reader.db_name, reader.coll_name, semantics.query_plan)
        try:
            return super()._open_scan_documents_sync(reader)
        finally:
            self._scan_plan = None

    def _load_documents(self, db_name: str, coll_name: str) -> Any:  # type: ignore[override]
        scan, self._scan_plan = self._scan_plan, None
        prefilter = None
        if scan is not None and scan[:2] == (db_name, coll_name):
            prefilter = self._string_comparisons(db_name, coll_name, scan[2])
        if not prefilter:
            return super()._load_documents(db_name, coll_name)
        where = " AND ".join(
            f"json_type(document, {_path_literal(field)}) = 'text' "
            f"AND json_extract(document, {_path_literal(field)}) {operator} ?"
            for field, operator, _ in prefilter
        )
        cursor = self._require_connection().execute(
            "SELECT storage_key, document FROM documents "  # noqa: S608
            f"WHERE db_name = ? AND coll_name = ? AND {where}",
            (db_name, coll_name, *(value for _, _, value in prefilter)),
        )
        return ((key, self._deserialize_document(doc)) for key, doc in cursor)

    def _string_comparisons(
        self, db_name: str, coll_name: str, plan: Any
    ) -> list[tuple[str, str, str]] | None:
        """The `field <op> "text"` clauses (==, <, <=, >, >=) of a top-level AND that narrow a
        scan exactly: MongoDB compares a string only with strings, and these are plain
        top-level fields no document of the collection holds an array on (an array holding a
        matching string would match in MongoDB, not in this SQL)."""
        if not isinstance(plan, AndCondition):
            return None
        found: list[tuple[str, str, str]] = []
        pending = list(plan.clauses)
        while pending:
            clause = pending.pop()
            if isinstance(clause, AndCondition):
                pending.extend(clause.clauses)
                continue
            operator = _STRING_OPERATORS.get(type(clause))
            field = getattr(clause, "field", None)
            if (
                operator is not None
                and isinstance(clause.value, str)
                and isinstance(field, str)
                and "." not in field
                and not field.startswith("$")
            ):
                found.append((field, operator, clause.value))
        if not found or any(
            self._field_is_top_level_array_in_collection(db_name, coll_name, field)
            for field in {field for field, _, _ in found}
        ):
            return None
        return found

    def _sort_requires_python(self, db_name, coll_name, plan, sort):  # type: ignore[override]
        # mongoeco asks, per sort field and per query, "does a document matching this filter
        # hold an array or an object there?" with a query of its own that SQLite cannot serve
        # from an index (96 % of a sorted journal search over 50,000 entries: 430 ms). When no
        # document of the collection holds one (a tracked feature), no matching one does
        # either; mongoeco's other checks still decide.
        if sort and not any(self._sort_value_unsafe(db_name, coll_name, f) for f, _ in sort):
            return sort_requires_python(
                db_name=db_name,
                coll_name=coll_name,
                plan=plan,
                sort=sort,
                plan_has_array_traversing_paths=self._plan_has_array_traversing_paths,
                translate_query_plan=translate_query_plan,
                field_traverses_array_in_collection=self._field_traverses_array_in_collection,
                field_contains_tagged_bytes_in_collection=(
                    self._field_contains_tagged_bytes_in_collection
                ),
                field_contains_tagged_undefined_in_collection=(
                    self._field_contains_tagged_undefined_in_collection
                ),
                fetchone=lambda sql, params: None,  # the answer the feature gave
                type_expression_sql=type_expression_sql,
                json_path_for_field=json_path_for_field,
            )
        return super()._sort_requires_python(db_name, coll_name, plan, sort)

    def _sort_value_unsafe(self, db_name: str, coll_name: str, field: str) -> bool:
        """Does any document hold, at `field`, what mongoeco's sort check looks for (an array,
        or an object untagged or tagged as a wide number)?"""
        path = _path_literal(field)
        predicate = (
            f"json_type(d.document, {path}) = 'array' OR (json_type(d.document, {path}) = "
            f"'object' AND COALESCE(json_extract(d.document, {_sql_string(_tag_path(field))}), "
            f"'') IN {_WIDE_OR_PLAIN})"  # mongoeco's `type_expression_sql`
        )

        def full() -> bool:
            conn = self._require_connection()
            sql = (
                "SELECT 1 FROM documents AS d WHERE d.db_name = ? AND d.coll_name = ? "  # noqa: S608
                f"AND ({predicate}) LIMIT 1"
            )
            return conn.execute(sql, (db_name, coll_name)).fetchone() is not None

        return self._feature((db_name, coll_name, f"sort_unsafe:{field}"), full, predicate)

    def _field_is_top_level_array_in_collection(self, db_name, coll_name, field):  # type: ignore[override]
        return self._feature(
            (db_name, coll_name, f"top_level_array:{field}"),
            lambda: super(IndexedUniqueSQLiteEngine, self)._field_is_top_level_array_in_collection(
                db_name, coll_name, field
            ),
            f"json_type(d.document, {_path_literal(field)}) = 'array'",
        )

    def _field_contains_tagged_value_type_in_collection(  # type: ignore[override]
        self, db_name, coll_name, field, value_type
    ):
        return self._feature(
            (db_name, coll_name, f"tagged_type:{field}:{value_type}"),
            lambda: super(
                IndexedUniqueSQLiteEngine, self
            )._field_contains_tagged_value_type_in_collection(
                db_name, coll_name, field, value_type
            ),
            "json_extract(d.document, ?) = ?",
            (_tag_path(field), value_type),
        )

    def _field_has_comparison_type_mismatch_in_collection(  # type: ignore[override]
        self, db_name, coll_name, field, expected_type
    ):
        def full() -> bool:
            return super(
                IndexedUniqueSQLiteEngine, self
            )._field_has_comparison_type_mismatch_in_collection(
                db_name, coll_name, field, expected_type
            )

        allowed = _COMPARABLE_JSON_TYPES.get(expected_type)
        if allowed is None:
            return full()
        path = _path_literal(field)
        return self._feature(
            (db_name, coll_name, f"comparison_mismatch:{field}:{expected_type}"),
            full,
            f"json_type(d.document, {path}) IS NOT NULL "
            f"AND json_type(d.document, {path}) NOT IN ({allowed})",
        )

    # -- unique indexes -----------------------------------------------------------------------

    # Any change of indexes or collections: ask again.
    def _forget(self) -> None:
        self._array_paths.clear()
        self._probe_sql.clear()

    def _create_index_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        result = super()._create_index_sync(*args, **kwargs)
        self._ensure_filter_indexes()
        return result

    def _ensure_filter_indexes(self) -> None:
        """A SQLite index on the filters' own expressions for every declared index's fields
        (one per field list, shared by every collection: db and collection lead it)."""
        conn = self._connection
        if conn is None:
            return
        with self._lock:
            rows = conn.execute("SELECT DISTINCT fields FROM indexes").fetchall()
            had_transaction = conn.in_transaction
            for (raw,) in rows:
                fields = json.loads(raw)
                if not fields or any(not isinstance(f, str) or f.startswith("$") for f in fields):
                    continue
                conn.execute(filter_index_sql(fields))
            if not had_transaction and conn.in_transaction:
                conn.commit()

    def _drop_index_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        return super()._drop_index_sync(*args, **kwargs)

    def _drop_indexes_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        return super()._drop_indexes_sync(*args, **kwargs)

    def _drop_database_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        return super()._drop_database_sync(*args, **kwargs)

    def _drop_collection_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        return super()._drop_collection_sync(*args, **kwargs)

    def _rename_collection_sync(self, *args, **kwargs):  # type: ignore[override]
        self._forget()
        return super()._rename_collection_sync(*args, **kwargs)

    def _stored_arrays(self, db_name: str, coll_name: str, index: Any, document: Any) -> bool:
        key = (db_name, coll_name, str(index["name"]))
        known = self._array_paths.get(key)
        if known is None:
            # Asked of the stored documents once; the candidate has no array on these paths.
            known = self._unique_index_uses_multikey_values(db_name, coll_name, document, index)
            self._array_paths[key] = known
        return known

    def _probe(self, db_name: str, coll_name: str, index: Any, tag_counts: tuple[int, ...]) -> str:
        """The lookup on the index's own expressions (so SQLite uses it), one `IN` list of type
        tags and one value per field. Built from the index definition only: no user input."""
        key = (db_name, coll_name, str(index["name"]), *tag_counts)
        sql = self._probe_sql.get(key)
        if sql is None:
            terms = []
            for field, count in zip(index["fields"], tag_counts, strict=True):
                type_sql, value_sql = index_expressions_sql(field)
                terms.append(f"{type_sql} IN ({', '.join('?' * count)}) AND {value_sql} = ?")
            physical = self._quote_identifier(str(index["physical_name"]))
            sql = self._probe_sql[key] = (
                f"SELECT storage_key, document FROM documents INDEXED BY {physical} "  # noqa: S608
                f"WHERE db_name = ? AND coll_name = ? AND {' AND '.join(terms)}"
            )
        return sql

    def _validate_document_against_unique_indexes(  # type: ignore[override]
        self,
        db_name: str,
        coll_name: str,
        document: Any,
        *,
        exclude_storage_key: str | None = None,
        skip_id_check: bool = False,
        scan_payload_id: bool = False,
    ) -> None:
        plan = self._lookups(db_name, coll_name, document)
        if plan is None or ("_id" in document and not _plain_id(document)):
            super()._validate_document_against_unique_indexes(
                db_name,
                coll_name,
                document,
                exclude_storage_key=exclude_storage_key,
                skip_id_check=skip_id_check,
                scan_payload_id=scan_payload_id,
            )
            return
        conn = self._require_connection()
        if "_id" in document and not skip_id_check:
            storage_key = self._storage_key(document["_id"])
            if (
                storage_key != exclude_storage_key
                and conn.execute(
                    "SELECT 1 FROM documents "
                    "WHERE db_name = ? AND coll_name = ? AND storage_key = ? LIMIT 1",
                    (db_name, coll_name, storage_key),
                ).fetchone()
            ):
                raise self._unique_key_error(
                    f"Duplicate key: _id={document['_id']}", f"{db_name}.{coll_name}", document
                )
        for index, sql, params in plan:
            fields = index["fields"]
            key = tuple(self._index_value(document, field) for field in fields)
            for storage_key, payload in conn.execute(sql, params):
                if storage_key == exclude_storage_key:
                    continue
                existing = self._deserialize_document(payload)
                if not document_in_virtual_index(existing, index):
                    continue
                # mongoeco's own equality for documents without arrays on these paths.
                if tuple(self._index_value(existing, field) for field in fields) == key:
                    raise self._unique_key_error(
                        f"Duplicate key for unique index '{index['name']}': {fields}={key!r}",
                        f"{db_name}.{coll_name}",
                        document,
                        index=index,
                        conflict=key,
                    )

    def _lookups(
        self, db_name: str, coll_name: str, document: Any
    ) -> list[tuple[Any, str, tuple[Any, ...]]] | None:
        """One index lookup per unique index the document is in, or None when any index (or
        the document) needs mongoeco's own check."""
        plan: list[tuple[Any, str, tuple[Any, ...]]] = []
        for index in self._load_indexes(db_name, coll_name):
            fields = index["fields"]
            if any(has_array_on_path(document, field) for field in fields):
                # A multikey candidate: mongoeco checks it, and stored arrays exist from now on.
                if index["unique"]:
                    self._array_paths[(db_name, coll_name, str(index["name"]))] = True
                return None
            if not index["unique"] or not document_in_virtual_index(document, index):
                continue
            if index.get("collation") is not None or not index.get("physical_name"):
                return None
            values = [scalar_at(document, field) for field in fields]
            if any(value is _MISSING for value in values):
                return None
            if self._stored_arrays(db_name, coll_name, index, document):
                return None
            params: list[Any] = [db_name, coll_name]
            tag_counts: list[int] = []
            for value in values:
                tag, plain = self._encoded(value)
                tags = _NUMERIC_TAGS if tag in _NUMERIC_TAGS and _is_number(value) else (tag,)
                tag_counts.append(len(tags))
                params.extend(tags)
                params.append(plain)
            sql = self._probe(db_name, coll_name, index, tuple(tag_counts))
            plan.append((index, sql, tuple(params)))
        return plan

    @staticmethod
    def _encoded(value: Any) -> tuple[str, Any]:
        """(type tag, stored value) as the index expressions read them back."""
        encoded = DocumentCodec.encode(value)
        if DocumentCodec._is_tagged_value(encoded):
            payload = encoded[DocumentCodec._MARKER]
            return str(payload[DocumentCodec._TYPE]), payload[DocumentCodec._VALUE]
        return "", encoded


# Every document inserted or rewritten, in order, in the database file itself so that mongoeco's
# scan readers (connections of their own) see it too; the oldest are dropped in batches, and an
# answer older than what is left is computed again from the whole collection.
_TOUCH_LOG = (
    "CREATE TABLE IF NOT EXISTS kp_touched ("
    "seq INTEGER PRIMARY KEY AUTOINCREMENT, db_name TEXT, coll_name TEXT, storage_key TEXT)",
    "CREATE TRIGGER IF NOT EXISTS kp_touch_insert AFTER INSERT ON documents BEGIN "
    "INSERT INTO kp_touched (db_name, coll_name, storage_key) "
    "VALUES (NEW.db_name, NEW.coll_name, NEW.storage_key); END",
    "CREATE TRIGGER IF NOT EXISTS kp_touch_update AFTER UPDATE ON documents BEGIN "
    "INSERT INTO kp_touched (db_name, coll_name, storage_key) "
    "VALUES (NEW.db_name, NEW.coll_name, NEW.storage_key); END",
    "CREATE TRIGGER IF NOT EXISTS kp_touch_prune AFTER INSERT ON kp_touched "
    "WHEN NEW.seq % 1000 = 0 BEGIN DELETE FROM kp_touched WHERE seq <= NEW.seq - 20000; END",
)
# Two subqueries: SQLite answers a lone min() or max() of the key from the b-tree's ends.
_TOUCH_BOUNDS = "SELECT (SELECT min(seq) FROM kp_touched), (SELECT max(seq) FROM kp_touched)"
# JSON types a comparison on a number, a string or a bool can run in SQL against.
_COMPARABLE_JSON_TYPES = {
    "number": "'integer', 'real'",
    "string": "'text'",
    "bool": "'true', 'false'",
}


def filter_index_sql(fields: list[str]) -> str:
    """CREATE INDEX on (db, collection, json_extract of each field), named by the fields."""
    digest = hashlib.sha1("\0".join(fields).encode(), usedforsecurity=False).hexdigest()[:16]
    columns = ", ".join(f"json_extract(document, {_path_literal(f)})" for f in fields)
    return (
        f"CREATE INDEX IF NOT EXISTS kp_filter_{digest} "
        f"ON documents (db_name, coll_name, {columns})"
    )


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _path_literal(field: str) -> str:
    return _sql_string(json_path_for_field(field))


def _tag_path(field: str) -> str:
    """The JSON path of the type mongoeco's codec tags a value of `field` with."""
    return f'{json_path_for_field(field)}."{DocumentCodec._MARKER}".{DocumentCodec._TYPE}'


def _plain_in(field: str, values: Sequence[Any], json_types: str) -> tuple[str, list[Any]]:
    """`field` (top-level, no array stored) is one of `values`, all of the JSON `json_types`."""
    path = _path_literal(field)
    marks = ", ".join("?" * len(values))
    return (
        f"(json_type(document, {path}) IN ({json_types}) "
        f"AND json_extract(document, {path}) IN ({marks}))",
        list(values),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_mongoeco_append_change = mongoeco_sqlite._sqlite_append_change


def _append_change(conn: Any, *args: Any, **kwargs: Any) -> int | None:
    """mongoeco's change-log append, skipped on the connections of our SQLite engine (the
    module's name is looked up at each call; mongoeco's own engines are unaffected)."""
    if getattr(conn, "kugelpos_no_change_log", False):
        return None
    return _mongoeco_append_change(conn, *args, **kwargs)


mongoeco_sqlite._sqlite_append_change = _append_change

_mongoeco_publish_change_event = CollectionRuntimeCoordinator.publish_change_event


def _publish_change_event(self: CollectionRuntimeCoordinator, **kwargs: Any) -> None:
    """mongoeco's change-event capture, skipped for collections on our engines: inside a
    transaction it deep-copies every written document into a pending list for change streams,
    which nobody opens here (3.7 % of a stock event's server time)."""
    if getattr(self._collection._engine, "kugelpos_no_change_events", False):
        return None
    return _mongoeco_publish_change_event(self, **kwargs)


CollectionRuntimeCoordinator.publish_change_event = _publish_change_event  # type: ignore[method-assign]


# Type ranks of MinKey and MaxKey, which MongoDB compares with any value.
_BRACKETLESS = frozenset({0, 127})
_mongoeco_comparison = FilteringMatchingMixin._comparison_matches_candidate.__func__  # type: ignore[attr-defined]


def _comparison_in_bracket(
    cls: type, candidate: Any, target: Any, operator: str, **kwargs: Any
) -> bool:
    """mongoeco's comparison of one candidate, for candidates of the target's type bracket
    only (the class attribute is looked up at each call)."""
    if not isinstance(candidate, list) and not isinstance(target, list):
        order = kwargs.get("dialect", MONGODB_DIALECT_70).bson_type_order
        left = _bson_type_rank(candidate, unwrap_bson_numeric(candidate), order)
        right = _bson_type_rank(target, unwrap_bson_numeric(target), order)
        if left != right and not {left, right} & _BRACKETLESS:
            return False
    return _mongoeco_comparison(cls, candidate, target, operator, **kwargs)


FilteringMatchingMixin._comparison_matches_candidate = classmethod(_comparison_in_bracket)  # type: ignore[method-assign,assignment]


# mongoeco compiles a filter into Python; its `$in` compares every candidate value with every
# listed value (`_in_item_matches_candidate`), so a 2,500-code `$in` over a store's 5,000 rows
# made 12.5 million comparisons (a count post of 5,000 items re-reads its rows that way three
# times). Its uncompiled matcher answers `$in` from a hash set of some values (dates, ids...,
# `_prepare_membership_values`, `_candidate_matches_membership`) but compares strings one by
# one. A long `$in` is compiled to that matcher, prepared once per compiled filter, with its
# strings in a set of their own: without a collation a string equals exactly the same string
# and nothing else, so a string candidate is looked up there and the other values are left to
# mongoeco's own comparison. With a collation, mongoeco's own code.
_LONG_IN = 8
_mongoeco_node_to_code = CompiledQuery._node_to_code


def _membership(
    doc: Any,
    field: str,
    values: tuple[Any, ...],
    prepared: tuple[frozenset[str], Any, Any, Any],
    null_matches_undefined: bool,
    dialect: Any,
    collation: Any,
) -> bool:
    if collation is not None:
        return QueryEngine._evaluate_in(
            doc,
            field,
            values,
            null_matches_undefined=null_matches_undefined,
            dialect=dialect,
            collation=collation,
        )
    strings, literal, regex, residual = prepared
    for candidate in QueryEngine.extract_values(doc, field) or [None]:
        if isinstance(candidate, str) and candidate in strings:
            return True
        if QueryEngine._candidate_matches_membership(
            candidate,
            literal_lookup=literal,
            regex_values=regex,
            residual_values=residual,
            null_matches_undefined=null_matches_undefined,
            dialect=dialect,
            collation=None,
        ):
            return True
    return False


def _node_to_code(self: CompiledQuery, node: Any, depth: int) -> str:
    if isinstance(node, InCondition) and len(node.values) > _LONG_IN:
        literal, regex, residual = QueryEngine._prepare_membership_values(
            node.values, null_matches_undefined=node.null_matches_undefined, collation=None
        )
        strings = frozenset(v for v in residual if type(v) is str)
        rest = [v for v in residual if type(v) is not str]
        prepared = (strings, literal, regex, rest)
        function = self._store("in_fast", _membership)
        field = self._field(node.field)
        values = self._store("values", node.values)
        ready = self._store("in_prepared", prepared)
        return (
            f"{function}(doc, {field}, {values}, {ready}, {node.null_matches_undefined}, "
            "dialect, collation)"
        )
    return _mongoeco_node_to_code(self, node, depth)


CompiledQuery._node_to_code = _node_to_code  # type: ignore[method-assign]


def engine_for(name: str, path: str | None = None) -> MemoryEngine | SQLiteEngine:
    """The embedded stack's engine: `memory` (tests) or `sqlite` at `path` (make run)."""
    mongo_admin.install()  # `listDatabases` and the stats size every value the engine holds
    if name == "sqlite":
        if path is None:
            raise ValueError("the sqlite engine needs a file path")
        return IndexedUniqueSQLiteEngine(path)
    return IndexedUniqueMemoryEngine()
