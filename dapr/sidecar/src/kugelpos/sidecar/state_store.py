"""Redis state store with daprd's layout: a hash per key holding `data` and `version`.

The version is the ETag. Every write goes through one Lua script that checks all ETags first
and applies the writes only if every check passed, so single saves, deletes and multi-key
transactions are atomic and all-or-nothing.
"""

from dataclasses import dataclass

from redis.asyncio import Redis

from kugelpos.sidecar.components import Component

KEY_SEPARATOR = "||"

# KEYS: the hashes. ARGV, five per operation: kind ("set"|"del"), etag ("" = none),
# insert_only ("1" = first-write without an ETag), data, ttl ("" = leave, -1 = persist, n > 0).
_APPLY = """
local n = #KEYS
for i = 1, n do
  local b = (i - 1) * 5
  local etag, insert_only = ARGV[b + 2], ARGV[b + 3]
  local version = redis.call('HGET', KEYS[i], 'version')
  if etag ~= '' then
    if (not version) or version ~= etag then return {'CONFLICT', i} end
  elseif insert_only == '1' and version then
    return {'CONFLICT', i}
  end
end
for i = 1, n do
  local b = (i - 1) * 5
  if ARGV[b + 1] == 'del' then
    redis.call('DEL', KEYS[i])
  else
    redis.call('HSET', KEYS[i], 'data', ARGV[b + 4])
    redis.call('HINCRBY', KEYS[i], 'version', 1)
    local ttl = tonumber(ARGV[b + 5])
    if ttl and ttl > 0 then
      redis.call('EXPIRE', KEYS[i], ttl)
    elseif ttl == -1 then
      redis.call('PERSIST', KEYS[i])
    end
  end
end
return {'OK', 0}
"""


class ETagMismatchError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"possible etag mismatch for key {key}")
        self.key = key


@dataclass(frozen=True, slots=True)
class Operation:
    """One write: an upsert (`data` set) or a delete (`data` None)."""

    key: str
    data: bytes | None
    etag: str | None = None
    insert_only: bool = False
    ttl_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Item:
    data: bytes
    etag: str


class StateStore:
    def __init__(self, redis: Redis, component: Component) -> None:
        self.redis = redis
        self.name = component.name
        self.key_prefix = component.metadata.get("keyPrefix", "appid")
        self._apply = redis.register_script(_APPLY)

    def redis_key(self, key: str, app_id: str) -> str:
        """daprd's key scheme `<prefix>||<key>`; keyPrefix name/none/appid/<custom>."""
        match self.key_prefix.lower():
            case "none":
                return key
            case "name":
                prefix = self.name
            case "appid":
                prefix = app_id
            case _:
                prefix = self.key_prefix
        return f"{prefix}{KEY_SEPARATOR}{key}"

    async def get(self, key: str, app_id: str) -> Item | None:
        data, version = await self.redis.hmget(self.redis_key(key, app_id), ["data", "version"])
        if data is None:
            return None
        return Item(data=data, etag=(version or b"").decode())

    async def get_many(self, keys: list[str], app_id: str) -> list[Item | None]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self.redis_key(key, app_id), ["data", "version"])
            rows = await pipe.execute()
        return [
            None if data is None else Item(data=data, etag=(version or b"").decode())
            for data, version in rows
        ]

    async def apply(self, operations: list[Operation], app_id: str) -> None:
        """Applies every operation or none; raises ETagMismatchError naming the failed key."""
        if not operations:
            return
        keys = [self.redis_key(op.key, app_id) for op in operations]
        args: list[str | bytes] = []
        for op in operations:
            args += [
                "del" if op.data is None else "set",
                op.etag or "",
                "1" if op.insert_only else "0",
                op.data or b"",
                "" if op.ttl_seconds is None else str(op.ttl_seconds),
            ]
        status, index = await self._apply(keys=keys, args=args)
        if status == b"CONFLICT":
            raise ETagMismatchError(operations[int(index) - 1].key)
