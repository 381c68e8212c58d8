"""Carts in the Dapr state store `cartstore`, one key per cart, guarded by ETags.

Keys are `<tenant>:<cart id>`, so another tenant's id never finds a cart. Every change is a
conditional save with the ETag of the read it started from: when two requests change one cart
at once, the second save fails (409) and nothing of it is applied. Entries expire with
`ttlInSeconds` (10 h by default); completed and cancelled carts stay readable until then.
"""

from __future__ import annotations

from pydantic import ValidationError

from kugelpos.common.clients.dapr import DaprClientHelper
from kugelpos.common.errors import ConflictError

from ..errors import CartNotFoundError, CartSaveError
from .documents import CartDocument


class CartConflictError(ConflictError):
    """Another request changed this cart first; reload and retry."""


class CartStore:
    def __init__(self, dapr: DaprClientHelper, store: str, ttl_seconds: int) -> None:
        self.dapr = dapr
        self.store = store
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(tenant_id: str, cart_id: str) -> str:
        return f"{tenant_id}:{cart_id}"

    async def load(self, tenant_id: str, cart_id: str) -> tuple[CartDocument, str | None]:
        entry = await self.dapr.get_state(self.store, self.key(tenant_id, cart_id))
        if entry is None or not isinstance(entry.value, dict):
            raise CartNotFoundError(f"Cart {cart_id} not found")
        try:
            return CartDocument.model_validate(entry.value), entry.etag
        except ValidationError as exc:
            raise CartNotFoundError(f"Cart {cart_id} is unreadable") from exc

    async def create(self, doc: CartDocument) -> None:
        try:
            await self.dapr.save_state(
                self.store,
                self.key(doc.cart.tenant_id, doc.cart.cart_id),
                doc.to_state(),
                ttl_seconds=self.ttl_seconds,
                first_write=True,
            )
        except ConflictError as exc:  # a UUID4 collision: practically never
            raise CartSaveError(f"Cart {doc.cart.cart_id} already exists") from exc

    async def save(self, doc: CartDocument, etag: str | None) -> None:
        try:
            await self.dapr.save_state(
                self.store,
                self.key(doc.cart.tenant_id, doc.cart.cart_id),
                doc.to_state(),
                etag=etag,
                ttl_seconds=self.ttl_seconds,
            )
        except ConflictError as exc:
            raise CartConflictError(
                f"Cart {doc.cart.cart_id} was changed by another request; reload and retry"
            ) from exc
