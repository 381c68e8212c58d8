"""Rules for parameters: JSON normalization of values and the resolution order
store + terminal -> store -> tenant-wide -> default."""

from __future__ import annotations

import ast
import json

from kugelpos.common.auth.principal import Principal
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import AlreadyExistsError, NotFoundError
from kugelpos.common.pagination import Page, PageParams

from ..cache import MasterCache
from ..changes.documents import LogKind
from ..changes.log import ChangeLog
from .documents import ParameterDocument, ParameterValue
from .repository import ParameterRepository
from .schemas import SettingsMasterCreateRequest, SettingsMasterUpdateRequest


def normalize_value(raw: str) -> str:
    """Structured text (`[...]`/`{...}`, JSON or a Python-style literal) is stored as JSON;
    anything else, or text that does not parse, is stored unchanged."""
    text = raw.strip()
    if not (text[:1] in "[{" and text[-1:] in "]}" and text):
        return raw
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return raw
    try:
        return json.dumps(parsed, ensure_ascii=False)
    except (TypeError, ValueError):
        return raw  # a literal JSON cannot express (a set, bytes...)


def resolve_value(doc: ParameterDocument, store_code: str, terminal_no: int) -> str:
    """1. this store and terminal; 2. this store, any terminal; 3. tenant-wide; 4. default."""
    for wanted in ((store_code, terminal_no), (store_code, None), (None, None)):
        for entry in doc.values:
            if (entry.store_code, entry.terminal_no) == wanted:
                return entry.value
    return doc.default_value


class ParameterService:
    def __init__(self, mongo: Mongo, cache: MasterCache, changes: ChangeLog) -> None:
        self._mongo = mongo
        self._cache = cache
        self._changes = changes

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> ParameterRepository:
        return ParameterRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, name: str) -> dict:
        return {"tenant_id": tenant_id, "name": name}

    @staticmethod
    def _normalized(body: SettingsMasterUpdateRequest) -> dict:
        return {
            "default_value": normalize_value(body.default_value),
            "values": [
                ParameterValue(
                    store_code=v.store_code,
                    terminal_no=v.terminal_no,
                    value=normalize_value(v.value),
                ).model_dump()
                for v in body.values
            ],
        }

    async def create(
        self, actor: Principal, tenant_id: str, body: SettingsMasterCreateRequest
    ) -> ParameterDocument:
        repo = self._repo(tenant_id, actor)
        message = f"Setting {body.name} already exists"
        if await repo.find_one(self._key(tenant_id, body.name)) is not None:
            raise AlreadyExistsError(message)
        doc = ParameterDocument(tenant_id=tenant_id, name=body.name, **self._normalized(body))
        try:
            created = await self._changes.create(repo, tenant_id, LogKind.SETTING, body.name, doc)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(message) from exc
        self._cache.parameter_changed(tenant_id, body.name)
        return created

    async def get(self, tenant_id: str, name: str) -> ParameterDocument:
        doc = await self._cache.get_or_load(
            self._cache.parameter_key(tenant_id, name),
            lambda: self._repo(tenant_id).find_one(self._key(tenant_id, name)),
        )
        if doc is None:
            raise NotFoundError(f"Setting {name} not found")
        return doc

    async def value(self, tenant_id: str, name: str, store_code: str, terminal_no: int) -> str:
        return resolve_value(await self.get(tenant_id, name), store_code, terminal_no)

    async def list(self, tenant_id: str, params: PageParams) -> Page[ParameterDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def update(
        self, actor: Principal, tenant_id: str, name: str, body: SettingsMasterUpdateRequest
    ) -> ParameterDocument:
        doc = await self._changes.update(
            self._repo(tenant_id, actor),
            tenant_id,
            LogKind.SETTING,
            name,
            self._key(tenant_id, name),
            self._normalized(body),
        )
        self._cache.parameter_changed(tenant_id, name)
        if doc is None:
            raise NotFoundError(f"Setting {name} not found")
        return doc

    async def delete(self, tenant_id: str, name: str) -> None:
        deleted = await self._changes.delete(
            self._repo(tenant_id), tenant_id, LogKind.SETTING, name, self._key(tenant_id, name)
        )
        self._cache.parameter_changed(tenant_id, name)
        if not deleted:
            raise NotFoundError(f"Setting {name} not found")
