"""Terminal rules: creation with a one-time API key, listing, reading, deletion, description,
function mode, key regeneration, and API-key verification."""

from __future__ import annotations

from collections.abc import Callable

from pymongo.asynchronous.client_session import AsyncClientSession

from kugelpos.common.auth.api_keys import generate_api_key, hash_api_key, verify_api_key
from kugelpos.common.auth.principal import Principal
from kugelpos.common.auth.remote_terminal import key_version_of
from kugelpos.common.db.mongo import TENANT_ID_PATTERN, Mongo
from kugelpos.common.errors import AlreadyExistsError, AuthenticationError
from kugelpos.common.events.changes import TerminalChange
from kugelpos.common.pagination import Page, PageParams

from ..errors import (
    FunctionModeError,
    StoreNotFoundError,
    TerminalAlreadyExistsError,
    TerminalNotFoundError,
)
from ..tenants.service import TenantService
from .documents import (
    MODES_NEEDING_NOT_OPEN,
    MODES_NEEDING_OPEN,
    ApiKeyDocument,
    FunctionMode,
    TerminalDocument,
    TerminalStatus,
    make_terminal_id,
    tenant_of,
)
from .repository import ApiKeyRepository, TerminalRepository
from .schemas import TerminalCreateRequest

SORTABLE = frozenset({"terminal_id", "store_code", "terminal_no", "created_at", "status"})
INVALID_KEY = "Invalid API key"


def terminal_principal(terminal: TerminalDocument) -> Principal:
    return Principal.of_terminal(terminal.terminal_id, terminal.tenant_id)


type Announce = Callable[[TerminalChange], None]


class TerminalService:
    def __init__(
        self, mongo: Mongo, tenants: TenantService, announce: Announce | None = None
    ) -> None:
        self._mongo = mongo
        self._tenants = tenants
        self._announce = announce

    def changed(self, terminal_id: str, reason: str) -> None:
        """Tell every service that cached approvals of this terminal are stale (its key,
        state, staff or existence changed); called after the change committed."""
        if self._announce is not None:
            self._announce(TerminalChange(tenant_of(terminal_id), terminal_id, reason))

    def terminals(self, tenant_id: str, actor: str | None = None) -> TerminalRepository:
        return TerminalRepository(self._mongo.tenant_db(tenant_id), actor=actor)

    def keys(self, actor: str | None = None) -> ApiKeyRepository:
        return ApiKeyRepository(self._mongo.commons_db(), actor=actor)

    # ---- reading -----------------------------------------------------------------------------

    async def get(self, terminal_id: str) -> TerminalDocument:
        tenant_id = tenant_of(terminal_id)
        terminal = None
        if TENANT_ID_PATTERN.match(tenant_id):
            terminal = await self.terminals(tenant_id).find_one({"terminal_id": terminal_id})
        if terminal is None:
            raise TerminalNotFoundError(f"Terminal {terminal_id} not found")
        return terminal

    async def list(
        self,
        tenant_id: str,
        params: PageParams,
        *,
        store_code: str | None = None,
        terminal_id: str | None = None,
    ) -> tuple[Page[TerminalDocument], dict]:
        filter_: dict = {"tenant_id": tenant_id}
        if store_code:
            filter_["store_code"] = store_code
        if terminal_id:
            filter_["terminal_id"] = terminal_id
        return await self.terminals(tenant_id).list(filter_, params), filter_

    # ---- API keys ----------------------------------------------------------------------------

    async def resolve_api_key(self, terminal_id: str, api_key: str) -> Principal:
        """`X-API-KEY` with a terminal id: the terminal it belongs to, or 401."""
        tenant_id = tenant_of(terminal_id)
        terminal = None
        if TENANT_ID_PATTERN.match(tenant_id) and len(api_key) <= 256:
            terminal = await self.terminals(tenant_id).find_one({"terminal_id": terminal_id})
        # Hash even when the terminal is unknown, so timing tells nothing.
        expected = terminal.api_key_hash if terminal else hash_api_key("-")
        if terminal is None or not verify_api_key(api_key, expected):
            raise AuthenticationError(INVALID_KEY)
        return terminal_principal(terminal)

    async def verify_token(self, principal: Principal) -> Principal:
        """A terminal JWT (signature valid): its terminal must still exist and the token's
        key version be the current one, else 401."""
        terminal_id = principal.terminal_id or ""
        tenant_id = tenant_of(terminal_id)
        terminal = None
        if tenant_id == principal.tenant_id and TENANT_ID_PATTERN.match(tenant_id):
            terminal = await self.terminals(tenant_id).find_one({"terminal_id": terminal_id})
        if terminal is None or key_version_of(principal) != terminal.key_version:
            raise AuthenticationError("Terminal credential revoked")
        return principal

    async def find_by_api_key(self, api_key: str) -> TerminalDocument:
        """`X-API-KEY` alone: the terminal that owns it, or 401."""
        entry = None
        if len(api_key) <= 256:
            entry = await self.keys().find_one({"api_key_hash": hash_api_key(api_key)})
        if entry is None:
            raise AuthenticationError(INVALID_KEY)
        terminal = await self.terminals(entry.tenant_id).find_one(
            {"terminal_id": entry.terminal_id}
        )
        if terminal is None or not verify_api_key(api_key, terminal.api_key_hash):
            raise AuthenticationError(INVALID_KEY)
        return terminal

    # ---- writing -----------------------------------------------------------------------------

    async def create(
        self, actor: Principal, body: TerminalCreateRequest
    ) -> tuple[TerminalDocument, str]:
        tenant_id = actor.tenant_id
        tenant = await self._tenants.get(tenant_id)
        if tenant.store(body.store_code) is None:
            raise StoreNotFoundError(f"Store {body.store_code} not found")
        await self._tenants.setup_local(tenant_id)
        api_key = generate_api_key()
        terminal = TerminalDocument(
            tenant_id=tenant_id,
            store_code=body.store_code,
            terminal_no=body.terminal_no,
            terminal_id=make_terminal_id(tenant_id, body.store_code, body.terminal_no),
            description=body.description,
            api_key_hash=hash_api_key(api_key),
        )
        terminals = self.terminals(tenant_id, actor.username)
        keys = self.keys(actor.username)

        async def work(session: AsyncClientSession) -> None:
            await terminals.create(terminal, session=session)
            await keys.create(
                ApiKeyDocument(
                    api_key_hash=terminal.api_key_hash,
                    terminal_id=terminal.terminal_id,
                    tenant_id=tenant_id,
                ),
                session=session,
            )

        try:
            await self._mongo.in_transaction(work)
        except AlreadyExistsError as exc:
            raise TerminalAlreadyExistsError(
                f"Terminal {terminal.terminal_id} already exists"
            ) from exc
        return terminal, api_key

    async def regenerate_key(
        self, actor: Principal, terminal_id: str
    ) -> tuple[TerminalDocument, str]:
        """A new key replaces the old one at once (the old key stops working)."""
        terminal = await self.get(terminal_id)
        api_key = generate_api_key()
        hashed = hash_api_key(api_key)
        terminals = self.terminals(terminal.tenant_id, actor.username)
        keys = self.keys(actor.username)

        async def work(session: AsyncClientSession) -> TerminalDocument | None:
            updated = await terminals.update(
                {"terminal_id": terminal_id},
                {"api_key_hash": hashed},
                extra={"$inc": {"key_version": 1}},
                session=session,
            )
            await keys.collection.update_one(
                {"terminal_id": terminal_id},
                {"$set": {"api_key_hash": hashed, "tenant_id": terminal.tenant_id}},
                upsert=True,
                session=session,
            )
            return updated

        updated = await self._mongo.in_transaction(work)
        if updated is None:
            raise TerminalNotFoundError(f"Terminal {terminal_id} not found")
        self.changed(terminal_id, "key_rotated")
        return updated, api_key

    async def delete(self, actor: Principal, terminal_id: str) -> None:
        terminal = await self.get(terminal_id)
        terminals = self.terminals(terminal.tenant_id, actor.username)
        keys = self.keys(actor.username)

        async def work(session: AsyncClientSession) -> bool:
            deleted = await terminals.delete({"terminal_id": terminal_id}, session=session)
            await keys.delete({"terminal_id": terminal_id}, session=session)
            return deleted

        if not await self._mongo.in_transaction(work):
            raise TerminalNotFoundError(f"Terminal {terminal_id} not found")
        self.changed(terminal_id, "deleted")

    async def update_description(
        self, actor: Principal, terminal_id: str, description: str
    ) -> TerminalDocument:
        terminal = await self.get(terminal_id)
        updated = await self.terminals(terminal.tenant_id, actor.username).update(
            {"terminal_id": terminal_id}, {"description": description}
        )
        if updated is None:
            raise TerminalNotFoundError(f"Terminal {terminal_id} not found")
        return updated

    async def update_function_mode(
        self, actor: Principal, terminal_id: str, mode: FunctionMode
    ) -> TerminalDocument:
        terminal = await self.get(terminal_id)
        if mode in MODES_NEEDING_OPEN and terminal.status is not TerminalStatus.OPENED:
            raise FunctionModeError(f"Function mode {mode.value} needs an open terminal")
        if mode in MODES_NEEDING_NOT_OPEN and terminal.status is TerminalStatus.OPENED:
            raise FunctionModeError(f"Function mode {mode.value} needs a terminal not open")
        # Conditional on the status read, so a concurrent open/close cannot slip in between.
        updated = await self.terminals(terminal.tenant_id, actor.username).update(
            {"terminal_id": terminal_id, "status": terminal.status.value},
            {"function_mode": mode.value},
        )
        if updated is None:
            raise FunctionModeError("The terminal changed concurrently; retry")
        return updated
