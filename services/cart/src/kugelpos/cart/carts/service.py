"""Cart rules around the pure core: load the cart (owned by this terminal), resolve what needs
I/O (items, payment masters and plugins), call the core operation, save with the ETag read.

Every request is all-or-nothing: the core raises before anything is saved, and a save that
lost a race (another request changed the cart since it was read) is a 409 that applied
nothing. The state machine (`state_machine.transition`) is checked before any lookup, so a
refused operation costs no call to another service.

Hot path: adding an item reads the item through `MasterDataClient` (in-process cache, then
master-data) and nothing else; taxes, parameters (the cash ceilings among them), promotions and
the store name were snapshot at creation.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import structlog

from kugelpos.common.cards import masked
from kugelpos.common.errors import AppError, PermissionDeniedError, ServiceUnavailableError

from .. import operations as ops
from ..cache.terminals import TerminalInfo
from ..config import CartSettings
from ..domain.masters import DEFAULT_TAX_MASTER, ItemMaster, tax_master_by_code
from ..domain.models import Cart, Person
from ..errors import CartValidationError, SignInOutError, TerminalStatusError
from ..master_data_client import MasterDataClient, resolve_parameter
from ..payments.limits import CASH_LIMIT_PARAMETERS, CashLimits, cash_limits
from ..plugins.registry import Plugins
from ..pricing.engine import PricingContext
from ..pricing.money import YEN_DIGITS, RoundMethod, to_decimal
from ..state_machine import TERMINAL_STATES, CartOperation, transition
from ..stored_value_client import StoredValueClient, Where
from ..transactions.service import TransactionService
from ..transactions.tranlog import PARAMETER_NAMES
from .documents import CartDocument, CartMasters
from .repository import CartConflictError, CartStore
from .schemas import CardDetail, CartCreateRequest, DiscountRequest, ItemRequest, PaymentRequest

log = structlog.get_logger(__name__)

type Refresh = Callable[[], Awaitable[TerminalInfo]]
_SAVE_TRIES = 3


class CartService:
    def __init__(
        self,
        store: CartStore,
        masters: MasterDataClient,
        plugins: Plugins,
        transactions: TransactionService,
        settings: CartSettings,
        stored_value: StoredValueClient,
    ) -> None:
        self._store = store
        self._stored_value = stored_value
        self._masters = masters
        self._plugins = plugins
        self._transactions = transactions
        self._settings = settings
        self._cash_defaults = CashLimits(settings.cash_tender_limit, settings.cash_change_limit)

    # ---- helpers -------------------------------------------------------------------------------

    @property
    def _round_method(self) -> RoundMethod:
        try:
            return RoundMethod(self._settings.round_method_for_discount)
        except ValueError:
            return RoundMethod.ROUND

    def context(self, doc: CartDocument) -> PricingContext:
        method = self._round_method
        promotions = []
        for plugin in self._plugins.promotions:
            promotion = plugin.promotion(
                doc.masters.promotions.get(plugin.name), method, YEN_DIGITS
            )
            if promotion is not None:
                promotions.append(promotion)
        taxes = doc.masters.taxes or list(DEFAULT_TAX_MASTER)
        return PricingContext(
            tax_master=tax_master_by_code(taxes),
            discount_round_method=method,
            promotions=tuple(promotions),
        )

    def _entries(self, requests: Sequence[Any], what: str) -> None:
        if len(requests) > self._settings.max_request_entries:
            raise CartValidationError(
                f"At most {self._settings.max_request_entries} {what} per request"
            )

    async def _owned(self, terminal: TerminalInfo, cart_id: str) -> tuple[CartDocument, str | None]:
        """The cart, if it belongs to this terminal (another tenant's id is simply not found:
        keys are per tenant; another terminal of the tenant is refused)."""
        doc, etag = await self._store.load(terminal.tenant_id, cart_id)
        if doc.terminal_id != terminal.terminal_id:
            raise PermissionDeniedError("This cart belongs to another terminal")
        return doc, etag

    @staticmethod
    def _current_staff(cart: Cart, terminal: TerminalInfo) -> Cart:
        if terminal.staff is not None and terminal.staff != cart.staff:
            return cart.model_copy(update={"staff": terminal.staff})
        return cart

    async def _change(
        self,
        terminal: TerminalInfo,
        cart_id: str,
        operation: CartOperation,
        change: Callable[[CartDocument], Awaitable[Cart]],
    ) -> CartDocument:
        doc, etag = await self._owned(terminal, cart_id)
        transition(doc.cart.cart_status, operation)  # refuse before any lookup
        cart = self._current_staff(await change(doc), terminal)
        new = doc.with_cart(cart)
        await self._store.save(new, etag)
        return new

    # ---- create and read -----------------------------------------------------------------------

    async def create(
        self, terminal: TerminalInfo, body: CartCreateRequest, refresh: Refresh | None = None
    ) -> CartDocument:
        try:
            cart = self._new_cart(terminal, body)
        except (TerminalStatusError, SignInOutError):
            if refresh is None:
                raise
            # Cached terminal info may predate the open / sign-in: ask once more.
            terminal = await refresh()
            cart = self._new_cart(terminal, body)
        masters, store_name = await self._snapshot(terminal)
        doc = CartDocument(
            cart=cart.model_copy(update={"store_name": store_name}),
            terminal_id=terminal.terminal_id,
            open_counter=terminal.open_counter,
            business_counter=terminal.business_counter,
            masters=masters,
        )
        await self._store.create(doc)
        return doc

    @staticmethod
    def _new_cart(terminal: TerminalInfo, body: CartCreateRequest) -> Cart:
        user = None
        if body.user_id or body.user_name:
            user = Person(id=body.user_id or "", name=body.user_name)
        return ops.create_cart(
            cart_id=str(uuid.uuid4()),
            tenant_id=terminal.tenant_id,
            store_code=terminal.store_code,
            terminal_no=terminal.terminal_no,
            terminal_status=terminal.status or "",
            staff=terminal.staff,
            transaction_type=body.transaction_type,
            user=user,
            business_date=terminal.business_date,
        )

    async def _snapshot(self, terminal: TerminalInfo) -> tuple[CartMasters, str | None]:
        """Taxes, settings, promotions and the store name, read concurrently (cached)."""
        tenant, store = terminal.tenant_id, terminal.store_code

        async def tolerant[V](what: str, read: Awaitable[V], default: V) -> V:
            try:
                return await read
            except AppError as exc:
                log.warning("cart_master_unavailable", what=what, error=exc.message)
                return default

        taxes, parameters, store_name = await asyncio.gather(
            tolerant("taxes", self._masters.taxes(tenant), []),
            tolerant("parameters", self._masters.parameters(tenant), []),
            tolerant("store", self._masters.store_name(tenant, store), None),
        )
        promotions: dict[str, Any] = {}
        for plugin in self._plugins.promotions:
            promotions[plugin.name] = await tolerant(
                plugin.name, plugin.snapshot(self._masters, terminal), None
            )
        values = {
            name: resolve_parameter(parameters, name, store, terminal.terminal_no)
            for name in (*PARAMETER_NAMES, *CASH_LIMIT_PARAMETERS)
        }
        return CartMasters(taxes=taxes, parameters=values, promotions=promotions), store_name

    async def get(self, terminal: TerminalInfo, cart_id: str) -> CartDocument:
        doc, _ = await self._owned(terminal, cart_id)
        ops.get_cart(doc.cart)
        return doc

    # ---- item entry ----------------------------------------------------------------------------

    async def add_items(
        self, terminal: TerminalInfo, cart_id: str, items: Sequence[ItemRequest]
    ) -> CartDocument:
        self._entries(items, "items")

        async def change(doc: CartDocument) -> Cart:
            if len(doc.cart.line_items) + len(items) > self._settings.max_line_items:
                raise CartValidationError(
                    f"A cart holds at most {self._settings.max_line_items} line items"
                )
            codes = list(dict.fromkeys(i.item_code for i in items))
            found = await asyncio.gather(
                *(self._masters.item(terminal.tenant_id, terminal.store_code, c) for c in codes)
            )
            masters = dict(zip(codes, found, strict=True))
            entries = [await self._entry(terminal, doc, masters[i.item_code], i) for i in items]
            return ops.add_items(doc.cart, entries, self.context(doc))

        return await self._change(terminal, cart_id, CartOperation.ADD_ITEMS, change)

    async def _entry(
        self, terminal: TerminalInfo, doc: CartDocument, item: ItemMaster, request: ItemRequest
    ) -> ops.ItemEntry:
        """One scanned item; a card sold (a stored-value item with its number) has its load
        registered at the stored-value service first, so the bill's log can name it (a
        normal item costs no call)."""
        entry = ops.ItemEntry(item, request.quantity, request.unit_price)
        if request.card_no is None:
            return entry
        candidate = replace(entry, card_no=masked(request.card_no), card_load_id="?")
        ops.check_card_entry(candidate)  # refused before any call (not a card item, qty...)
        load = await self._stored_value.register_load(
            terminal.tenant_id,
            request.card_no,
            whole_units(request.unit_price),
            kind="load",
            load_id=f"{doc.cart.cart_id}-{uuid.uuid4().hex[:12]}",
            at=Where(doc.cart.cart_id, terminal.store_code, terminal.terminal_no),
        )
        return replace(candidate, card_load_id=str(load["loadId"]))

    async def cancel_line_item(self, terminal: TerminalInfo, cart_id: str, line_no: int):
        async def change(doc: CartDocument) -> Cart:
            return ops.cancel_line_item(doc.cart, line_no, self.context(doc))

        return await self._change(terminal, cart_id, CartOperation.CANCEL_LINE_ITEM, change)

    async def update_quantity(
        self, terminal: TerminalInfo, cart_id: str, line_no: int, quantity: int
    ) -> CartDocument:
        async def change(doc: CartDocument) -> Cart:
            return ops.update_line_quantity(doc.cart, line_no, quantity, self.context(doc))

        return await self._change(terminal, cart_id, CartOperation.UPDATE_QUANTITY, change)

    async def update_unit_price(
        self, terminal: TerminalInfo, cart_id: str, line_no: int, unit_price: Any
    ) -> CartDocument:
        async def change(doc: CartDocument) -> Cart:
            return ops.update_line_unit_price(doc.cart, line_no, unit_price, self.context(doc))

        return await self._change(terminal, cart_id, CartOperation.UPDATE_UNIT_PRICE, change)

    async def set_line_discounts(
        self,
        terminal: TerminalInfo,
        cart_id: str,
        line_no: int,
        discounts: Sequence[DiscountRequest],
    ) -> CartDocument:
        self._entries(discounts, "discounts")

        async def change(doc: CartDocument) -> Cart:
            return ops.set_line_discounts(
                doc.cart, line_no, [_discount(d) for d in discounts], self.context(doc)
            )

        return await self._change(terminal, cart_id, CartOperation.ADD_LINE_DISCOUNTS, change)

    # ---- paying --------------------------------------------------------------------------------

    async def subtotal(self, terminal: TerminalInfo, cart_id: str) -> CartDocument:
        async def change(doc: CartDocument) -> Cart:
            return ops.subtotal(doc.cart, self.context(doc))

        return await self._change(terminal, cart_id, CartOperation.SUBTOTAL, change)

    async def set_subtotal_discounts(
        self, terminal: TerminalInfo, cart_id: str, discounts: Sequence[DiscountRequest]
    ) -> CartDocument:
        self._entries(discounts, "discounts")

        async def change(doc: CartDocument) -> Cart:
            return ops.set_subtotal_discounts(
                doc.cart, [_discount(d) for d in discounts], self.context(doc)
            )

        return await self._change(terminal, cart_id, CartOperation.ADD_SUBTOTAL_DISCOUNTS, change)

    async def add_payments(
        self, terminal: TerminalInfo, cart_id: str, payments: Sequence[PaymentRequest]
    ) -> CartDocument:
        self._entries(payments, "payments")

        placed: list[str] = []  # holds placed by this request, given back if it fails

        async def change(doc: CartDocument) -> Cart:
            tenders = []
            cards: list[CardDetail | None] = []
            for request in payments:
                plugin = self._plugins.payment(request.payment_code)
                if plugin is None:
                    raise CartValidationError(
                        f"Payment code {request.payment_code} is not configured in the cart"
                    )
                master = await self._masters.payment(terminal.tenant_id, request.payment_code)
                card = request.detail if isinstance(request.detail, CardDetail) else None
                if plugin.rule.draws_on_card != (card is not None):
                    raise CartValidationError(
                        f"Payment code {request.payment_code}: a card's detail "
                        + ("{cardNo, pin} is required" if card is None else "is not taken")
                    )
                detail = masked(card.card_no) if card else request.detail
                tenders.append(
                    ops.TenderRequest(plugin.rule, master, request.amount, detail)  # type: ignore[arg-type]
                )
                cards.append(card)
            # From the cart's parameter snapshot: no lookup beyond the payment masters.
            limits = cash_limits(doc.masters.parameters, self._cash_defaults)
            context = self.context(doc)
            if any(cards):
                # Checked first (pure): a refused tender places no hold.
                ops.add_payments(doc.cart, tenders, context, limits)
            at = Where(doc.cart.cart_id, terminal.store_code, terminal.terminal_no)
            for i, card in enumerate(cards):
                if card is None:
                    continue
                hold_id = f"{doc.cart.cart_id}-{uuid.uuid4().hex[:12]}"
                await self._stored_value.place_hold(
                    terminal.tenant_id,
                    card.card_no,
                    whole_units(payments[i].amount),
                    pin=card.pin,
                    hold_id=hold_id,
                    at=at,
                )
                placed.append(hold_id)
                tenders[i] = replace(tenders[i], card_no=masked(card.card_no), hold_id=hold_id)
            return ops.add_payments(doc.cart, tenders, context, limits)

        try:
            return await self._change(terminal, cart_id, CartOperation.ADD_PAYMENTS, change)
        except BaseException:
            if placed:
                await self._stored_value.release_quietly(terminal.tenant_id, placed)
            raise

    async def resume_item_entry(self, terminal: TerminalInfo, cart_id: str) -> CartDocument:
        taken_back: list[str] = []

        async def change(doc: CartDocument) -> Cart:
            taken_back[:] = [p.hold_id for p in doc.cart.payments if p.hold_id]
            return ops.resume_item_entry(doc.cart, self.context(doc))

        doc = await self._change(terminal, cart_id, CartOperation.RESUME_ITEM_ENTRY, change)
        if taken_back:  # the payments are gone: their holds go back on the cards
            await self._stored_value.release_quietly(terminal.tenant_id, taken_back)
        return doc

    # ---- completion ----------------------------------------------------------------------------

    async def bill(self, terminal: TerminalInfo, cart_id: str) -> CartDocument:
        return await self._complete(terminal, cart_id, cancel=False)

    async def cancel(self, terminal: TerminalInfo, cart_id: str) -> CartDocument:
        return await self._complete(terminal, cart_id, cancel=True)

    async def _complete(
        self, terminal: TerminalInfo, cart_id: str, *, cancel: bool
    ) -> CartDocument:
        """Bill or cancel: the cart's tranlog is recorded (once), then the cart is saved in its
        final state. If the save loses a race to a change that is not final, the recorded
        tranlog wins and is saved over it: the cart must match what was recorded. If the state
        store is down by then, the answer is still the completed cart."""
        doc, etag = await self._owned(terminal, cart_id)
        cart = self._current_staff(doc.cart, terminal)
        cart = ops.cancel(cart) if cancel else ops.bill(cart, self.context(doc))
        tran = await self._transactions.complete_cart(doc.with_cart(cart), terminal)
        final = doc.with_cart(
            cart.model_copy(
                update={
                    "transaction_no": tran.transaction_no,
                    "receipt_no": tran.receipt_no,
                    "receipt_text": tran.receipt_text,
                    "journal_text": tran.journal_text,
                }
            )
        )
        for attempt in range(1, _SAVE_TRIES + 1):
            try:
                await self._store.save(final, etag)
                return final
            except ServiceUnavailableError as exc:
                # The sale is recorded (and on its way through the outbox): answering an error
                # now would have the till ring it up again and charge twice. The stored cart
                # stays in its last state; a retried bill finds the same tranlog.
                log.warning(
                    "cart_final_state_not_saved",
                    cart_id=cart_id,
                    transaction_no=tran.transaction_no,
                    error=type(exc).__name__,
                )
                return final
            except CartConflictError:
                latest, etag = await self._store.load(terminal.tenant_id, cart_id)
                if latest.cart.cart_status in TERMINAL_STATES or attempt == _SAVE_TRIES:
                    raise
        raise AssertionError("unreachable")


def whole_units(amount: object) -> int:
    """A card's amount in the currency's minor units (the cart's amounts are whole yen)."""
    value = to_decimal(amount)  # type: ignore[arg-type]
    if value != value.to_integral_value():
        raise CartValidationError(f"{value} is not a whole amount")
    return int(value)


def _discount(d: DiscountRequest) -> ops.DiscountRequest:
    return ops.DiscountRequest(d.discount_type, d.discount_value, d.discount_detail)
