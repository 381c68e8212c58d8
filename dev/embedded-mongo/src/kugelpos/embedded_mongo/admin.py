"""`listDatabases`, `dbStats` and `collStats` on the embedded mongoeco server.

mongoeco 4.11 sizes a database by reading every document and adding up its BSON size
(`_bson_document_size`). Two things go wrong with that here:

- Its sizer knows Python's plain types only: a value the engine hands over in one of its own
  typed wrappers, or a Decimal128, fails the whole command with "$bsonSize cannot encode value
  of type BsonInt32" (or `Decimal128`). The SQLite engine stores an integer that an `$inc`
  brought back from the int64 range into the int32 range as an int32-tagged value and reads
  it back wrapped; the report service's counters do exactly that (a return takes an amount
  back), so once a report database existed, `listDatabases` failed on its server for every
  client (a MongoDB shell, Compass, a service listing its tenants).
- `listDatabases` sizes every database even with `nameOnly`, which is how drivers list the
  names (`list_database_names`): the stock scheduler does every 30 s to find its tenants, and
  with 20,000 documents it took 4 s of the server's only thread, every command waiting.

`install()` gives mongoeco's sizer the BSON sizes of those types (int32 4 bytes, int64 and
double 8, decimal128 16, MinKey/MaxKey 0), as MongoDB counts them, everything else still going
to mongoeco's own sizer; and answers `nameOnly` (with no filter, or one on `name` alone) from
the engine's list of names, as MongoDB does, without reading a document. The engine's data is
untouched.
"""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import bson
import mongoeco.core.aggregation.runtime as mongoeco_runtime
import mongoeco.types as mongoeco_types
from mongoeco.api._async._database_admin_read_commands import DatabaseAdminReadCommandService
from mongoeco.api.admin_parsing import normalize_list_databases_options
from mongoeco.core.bson_scalars import BsonDecimal128, BsonDouble, BsonInt32, BsonInt64
from mongoeco.core.filtering import QueryEngine

# Sizes of BSON values by type (bytes of the value, without the element's type and name).
_FIXED_SIZES: tuple[tuple[tuple[type, ...], int], ...] = (
    ((BsonInt32,), 4),
    ((BsonInt64, BsonDouble, bson.Int64), 8),
    ((BsonDecimal128, bson.Decimal128, mongoeco_types.Decimal128, decimal.Decimal), 16),
    ((bson.MinKey, bson.MaxKey), 0),
)
_LOGICAL = frozenset({"$and", "$or", "$nor"})

type ListDatabases = Callable[..., Awaitable[Any]]

_mongoeco_value_size: Callable[[Any], int] | None = None
_mongoeco_list_databases: ListDatabases | None = None


def bson_value_size(value: Any) -> int:
    """The BSON size of one value: the typed ones above, else mongoeco's own answer (which
    recurses into documents and arrays through this function, so nested values are sized
    the same way)."""
    for types, size in _FIXED_SIZES:
        if isinstance(value, types):
            return size
    assert _mongoeco_value_size is not None, "install() first"
    return _mongoeco_value_size(value)


def on_name_only(filter_spec: Mapping[str, Any]) -> bool:
    """Whether a `listDatabases` filter reads nothing but `name` (MongoDB allows no more with
    `nameOnly`)."""
    for key, value in filter_spec.items():
        if key in _LOGICAL:
            if not isinstance(value, list) or not all(
                isinstance(clause, Mapping) and on_name_only(clause) for clause in value
            ):
                return False
        elif key != "name":
            return False
    return True


@dataclass(frozen=True, slots=True)
class NameListing:
    """The answer to `listDatabases` with `nameOnly`, shaped as MongoDB's (no sizes)."""

    databases: list[dict[str, object]]

    def to_document(self) -> dict[str, object]:
        return {"databases": self.databases, "ok": 1.0}


async def list_databases(
    self: DatabaseAdminReadCommandService, spec: dict[str, object], *, session: Any = None
) -> object:
    options = normalize_list_databases_options(spec)
    if not options.name_only or not on_name_only(options.filter_spec):
        assert _mongoeco_list_databases is not None, "install() first"
        return await _mongoeco_list_databases(self, spec, session=session)
    admin = self._admin
    admin._ensure_session_active(session)
    names = await admin._engine.list_databases(context=session)
    dialect = admin._mongodb_dialect
    return NameListing(
        [
            {"name": str(name)}
            for name in names
            if QueryEngine.match({"name": str(name)}, options.filter_spec, dialect=dialect)
        ]
    )


def install() -> None:
    """Replace mongoeco's value sizer (looked up by name at each call) and its `listDatabases`
    command; idempotent."""
    global _mongoeco_value_size, _mongoeco_list_databases
    if _mongoeco_value_size is None:
        _mongoeco_value_size = mongoeco_runtime._bson_value_size
        mongoeco_runtime._bson_value_size = bson_value_size
    if _mongoeco_list_databases is None:
        _mongoeco_list_databases = DatabaseAdminReadCommandService.command_list_databases
        DatabaseAdminReadCommandService.command_list_databases = list_databases  # type: ignore[method-assign]
