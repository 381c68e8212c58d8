"""The state API: GET/POST/DELETE /v1.0/state/{store}..., with daprd's status codes."""

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kugelpos.sidecar.api_token import caller_id
from kugelpos.sidecar.errors import DaprError, malformed
from kugelpos.sidecar.policy import policy_of
from kugelpos.sidecar.runtime import Runtime
from kugelpos.sidecar.state_store import KEY_SEPARATOR, ETagMismatchError, Operation, StateStore

router = APIRouter()


def _store(request: Request, name: str) -> StateStore:
    runtime: Runtime = request.app.state.runtime
    store = runtime.state_stores.get(name)
    scopes = policy_of(request).scopes
    caller = _app_id(request)
    # A store scoped to other apps is not loaded in this app's daprd: it does not exist for it.
    if store is None or not scopes.visible(name, caller):
        if not scopes.any_visible("state", caller):
            raise DaprError(500, "ERR_STATE_STORES_NOT_CONFIGURED", "state store is not configured")
        raise DaprError(400, "ERR_STATE_STORE_NOT_FOUND", f"state store {name} is not found")
    return store


def _app_id(request: Request) -> str:
    """The calling app: scopes, and the key prefix of a store with keyPrefix "appid"."""
    runtime: Runtime = request.app.state.runtime
    return caller_id(request, runtime.settings.sidecar_id)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise malformed(f"failed to parse request body: {exc}") from exc


def _key(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise malformed("state key is missing or not a string")
    if KEY_SEPARATOR in value:
        raise malformed(f"input key/keyPrefix '{value}' can't contain '{KEY_SEPARATOR}'")
    return value


class InvalidETagError(ValueError):
    pass


def _etag(value: Any) -> str | None:
    """ETags are the hash's integer version, as in daprd's redis store; anything else is invalid."""
    if value is None or value == "":
        return None
    text = str(value).strip('"')
    if not text.isdigit():
        raise InvalidETagError(f"invalid etag value: {value}")
    return text


def _ttl(metadata: Any) -> int | None:
    if not isinstance(metadata, dict) or metadata.get("ttlInSeconds") in (None, ""):
        return None
    try:
        ttl = int(str(metadata["ttlInSeconds"]))
    except ValueError as exc:
        raise malformed(f"ttlInSeconds must be an integer: {exc}") from exc
    if ttl < -1 or ttl == 0:
        raise malformed("ttlInSeconds must be -1 or a positive number of seconds")
    return ttl


def _operation(item: Any, *, upsert: bool) -> Operation:
    """Raises InvalidETagError for a bad ETag so each endpoint can answer with its own code."""
    if not isinstance(item, dict):
        raise malformed("each state item must be a JSON object")
    key = _key(item.get("key"))
    etag = _etag(item.get("etag"))
    options = item.get("options") if isinstance(item.get("options"), dict) else {}
    # Dapr's first-write: with an ETag the ETag must match; without one, the key must not exist.
    first_write = options.get("concurrency") == "first-write"
    if not upsert:
        return Operation(key=key, data=None, etag=etag)
    if "value" not in item:
        raise malformed(f"state item {key} has no value")
    return Operation(
        key=key,
        data=json.dumps(item["value"], ensure_ascii=False, separators=(",", ":")).encode(),
        etag=etag,
        insert_only=first_write and etag is None,
        ttl_seconds=_ttl(item.get("metadata")),
    )


@router.get("/v1.0/state/{store_name}/{key:path}")
async def get_state(store_name: str, key: str, request: Request) -> Response:
    store = _store(request, store_name)
    item = await store.get(_key(key), _app_id(request))
    if item is None:
        return Response(status_code=204)
    return Response(content=item.data, media_type="application/json", headers={"ETag": item.etag})


@router.post("/v1.0/state/{store_name}")
async def save_state(store_name: str, request: Request) -> Response:
    store = _store(request, store_name)
    body = await _json_body(request)
    if not isinstance(body, list):
        raise malformed("request body must be a JSON array of state items")
    try:
        operations = [_operation(item, upsert=True) for item in body]
    except InvalidETagError as exc:
        raise DaprError(
            400, "ERR_STATE_SAVE", f"failed saving state in state store {store_name}: {exc}"
        ) from exc
    # A save of several items is not a transaction in Dapr: each one stands alone, in order.
    for operation in operations:
        try:
            await store.apply([operation], _app_id(request))
        except ETagMismatchError as exc:
            raise DaprError(
                409, "ERR_STATE_SAVE", f"failed saving state in state store {store_name}: {exc}"
            ) from exc
    return Response(status_code=204)


@router.delete("/v1.0/state/{store_name}/{key:path}")
async def delete_state(store_name: str, key: str, request: Request) -> Response:
    store = _store(request, store_name)
    try:
        etag = _etag(request.headers.get("if-match"))
    except InvalidETagError as exc:
        raise DaprError(
            400, "ERR_STATE_DELETE", f"failed deleting state with key {key}: {exc}"
        ) from exc
    try:
        await store.apply([Operation(key=_key(key), data=None, etag=etag)], _app_id(request))
    except ETagMismatchError as exc:
        raise DaprError(
            409, "ERR_STATE_DELETE", f"failed deleting state with key {key}: {exc}"
        ) from exc
    return Response(status_code=204)


@router.post("/v1.0/state/{store_name}/bulk")
async def get_bulk_state(store_name: str, request: Request) -> Response:
    store = _store(request, store_name)
    body = await _json_body(request)
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list):
        raise malformed('request body must be {"keys": [...]}')
    checked = [_key(k) for k in keys]
    items = await store.get_many(checked, _app_id(request))
    result: list[dict[str, Any]] = []
    for key, item in zip(checked, items, strict=True):
        if item is None:
            result.append({"key": key})
            continue
        try:
            data: Any = json.loads(item.data)
        except ValueError:
            data = item.data.decode("utf-8", errors="replace")
        result.append({"key": key, "data": data, "etag": item.etag})
    return JSONResponse(result)


@router.post("/v1.0/state/{store_name}/transaction")
async def transaction(store_name: str, request: Request) -> Response:
    store = _store(request, store_name)
    body = await _json_body(request)
    entries = body.get("operations") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise malformed('request body must be {"operations": [...]}')
    operations: list[Operation] = []
    for entry in entries:
        kind = entry.get("operation") if isinstance(entry, dict) else None
        if kind not in ("upsert", "delete"):
            raise DaprError(
                400, "ERR_NOT_SUPPORTED_STATE_OPERATION", f"operation type {kind} not supported"
            )
        try:
            operations.append(_operation(entry.get("request"), upsert=kind == "upsert"))
        except InvalidETagError as exc:
            raise _transaction_error(exc) from exc
    try:
        await store.apply(operations, _app_id(request))
    except ETagMismatchError as exc:
        # daprd answers every failed transaction with 500, ETag conflicts included.
        raise _transaction_error(exc) from exc
    return Response(status_code=204)


def _transaction_error(exc: Exception) -> DaprError:
    return DaprError(
        500, "ERR_STATE_TRANSACTION", f"error while executing state transaction: {exc}"
    )
