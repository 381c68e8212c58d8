"""What the cart's offline side shares: the terminal a request is for, the id an offline sale
is recorded under, and the per-tenant readiness and parameters both numbers and intake use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kugelpos.common.clients.services import ServiceCaller
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.db.tenants import ensure_collections

from ..config import CartSettings
from ..master_data_client import MasterDataClient, resolve_parameter
from ..transactions import tranlog as build
from ..transactions.service import TransactionService
from .repository import OFFLINE_REPOSITORIES


@dataclass(frozen=True, slots=True)
class Till:
    tenant_id: str
    store_code: str
    terminal_no: int

    @property
    def terminal_id(self) -> str:
        return f"{self.tenant_id}-{self.store_code}-{self.terminal_no}"

    def key(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "store_code": self.store_code,
            "terminal_no": self.terminal_no,
        }


def source_id(terminal_id: str, offline_id: str) -> str:
    return f"offline:{terminal_id}:{offline_id}"


class OfflineBase:
    def __init__(
        self,
        mongo: Mongo,
        transactions: TransactionService,
        masters: MasterDataClient,
        caller: ServiceCaller,
        settings: CartSettings,
        ensured: set[str],
    ) -> None:
        self._mongo = mongo
        self._transactions = transactions
        self._masters = masters
        self._caller = caller
        self._settings = settings
        self._ensured = ensured

    def db(self, tenant_id: str):
        return self._mongo.tenant_db(tenant_id)

    async def ready(self, tenant_id: str) -> None:
        key = f"offline:{tenant_id}"
        if key not in self._ensured:
            await self._transactions.ready(tenant_id)
            await ensure_collections(self.db(tenant_id), OFFLINE_REPOSITORIES)
            self._ensured.add(key)

    async def parameters(self, till: Till) -> dict[str, str | None]:
        entries = await self._masters.parameters(till.tenant_id)
        return {
            name: resolve_parameter(entries, name, till.store_code, till.terminal_no)
            for name in build.PARAMETER_NAMES
        }
