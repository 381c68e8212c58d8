"""Rules for item books: ids `YYYYMMDD-NNNN` backed by a unique index, nested create,
sub-element add / update / delete that change exactly the addressed element, and optimistic
concurrency (a book is read, changed and replaced only if nobody changed it meanwhile)."""

from __future__ import annotations

from collections.abc import Callable

from kugelpos.common.auth.principal import Principal
from kugelpos.common.clock import business_date
from kugelpos.common.db.mongo import Mongo
from kugelpos.common.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidOperationError,
    NotFoundError,
)
from kugelpos.common.pagination import Page, PageParams

from ..config import MasterDataSettings
from ..items.repository import ItemRepository
from ..schemas import display_time
from ..store_items.repository import StoreItemRepository
from .documents import ButtonDoc, CategoryDoc, ItemBookDocument, TabDoc
from .repository import ItemBookRepository
from .schemas import (
    ItemBookButton,
    ItemBookCategory,
    ItemBookCreateRequest,
    ItemBookResponse,
    ItemBookTab,
)

ID_TRIES = 20
MUTATE_TRIES = 5
MAX_BOOKS_PER_DAY = 9999
NOT_FOUND_TEXT = "not found"


# ---- conversions ---------------------------------------------------------------------------


def button_doc(body: ItemBookButton) -> ButtonDoc:
    return ButtonDoc(
        pos_x=body.pos_x,
        pos_y=body.pos_y,
        size=body.size,
        image_url=body.image_url,
        color_text=body.color_text,
        item_code=body.item_code,
    )


def tab_doc(body: ItemBookTab) -> TabDoc:
    return TabDoc(
        tab_number=body.tab_number,
        title=body.title,
        color=body.color,
        buttons=[button_doc(b) for b in body.buttons or []],
    )


def category_doc(body: ItemBookCategory) -> CategoryDoc:
    return CategoryDoc(
        category_number=body.category_number,
        title=body.title,
        color=body.color,
        tabs=[tab_doc(t) for t in body.tabs or []],
    )


type PriceBook = dict[str, tuple[str, object]]  # item_code -> (description, unit price)


def book_out(doc: ItemBookDocument, prices: PriceBook | None = None) -> ItemBookResponse:
    def button(b: ButtonDoc) -> ItemBookButton:
        description, price = None, None
        if prices is not None:
            description, price = prices.get(b.item_code, (NOT_FOUND_TEXT, None))
        return ItemBookButton.model_construct(
            pos_x=b.pos_x,
            pos_y=b.pos_y,
            size=b.size,
            image_url=b.image_url,
            color_text=b.color_text,
            item_code=b.item_code,
            unit_price=price,
            description=description,
        )

    return ItemBookResponse(
        item_book_id=doc.item_book_id,
        title=doc.title,
        categories=[
            ItemBookCategory.model_construct(
                category_number=c.category_number,
                title=c.title,
                color=c.color,
                tabs=[
                    ItemBookTab.model_construct(
                        tab_number=t.tab_number,
                        title=t.title,
                        color=t.color,
                        buttons=[button(b) for b in t.buttons],
                    )
                    for t in c.tabs
                ],
            )
            for c in doc.categories
        ],
        entry_datetime=display_time(doc.created_at),
        last_update_datetime=display_time(doc.updated_at),
    )


# ---- locating elements ---------------------------------------------------------------------


def _category(doc: ItemBookDocument, number: int) -> CategoryDoc:
    for category in doc.categories:
        if category.category_number == number:
            return category
    raise NotFoundError(f"Category {number} not found in item book {doc.item_book_id}")


def _tab(doc: ItemBookDocument, category_number: int, tab_number: int) -> TabDoc:
    for tab in _category(doc, category_number).tabs:
        if tab.tab_number == tab_number:
            return tab
    raise NotFoundError(
        f"Tab {tab_number} not found in category {category_number} of item book {doc.item_book_id}"
    )


def _button(doc: ItemBookDocument, category_number: int, tab_number: int, x: int, y: int):
    for button in _tab(doc, category_number, tab_number).buttons:
        if (button.pos_x, button.pos_y) == (x, y):
            return button
    raise NotFoundError(f"Button at ({x}, {y}) not found in tab {tab_number}")


class ItemBookService:
    def __init__(self, mongo: Mongo, settings: MasterDataSettings) -> None:
        self._mongo = mongo
        self._settings = settings

    def _repo(self, tenant_id: str, actor: Principal | None = None) -> ItemBookRepository:
        return ItemBookRepository(
            self._mongo.tenant_db(tenant_id), actor=actor.subject if actor else None
        )

    @staticmethod
    def _key(tenant_id: str, book_id: str) -> dict:
        return {"tenant_id": tenant_id, "item_book_id": book_id}

    # ---- whole books -----------------------------------------------------------------------

    async def create(
        self, actor: Principal, tenant_id: str, body: ItemBookCreateRequest
    ) -> ItemBookDocument:
        repo = self._repo(tenant_id, actor)
        prefix = business_date(self._settings.timezone) + "-"
        categories = [category_doc(c) for c in body.categories or []]
        for _ in range(ID_TRIES):
            last = await repo.last_id_with_prefix(tenant_id, prefix)
            number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
            if number > MAX_BOOKS_PER_DAY:
                raise InvalidOperationError("No item book ids left for today")
            doc = ItemBookDocument(
                tenant_id=tenant_id,
                item_book_id=f"{prefix}{number:04d}",
                title=body.title,
                categories=categories,
            )
            try:
                return await repo.create(doc)
            except AlreadyExistsError:
                continue  # another request took this id: probe again
        raise ConflictError("Could not allocate an item book id; retry")

    async def get(self, tenant_id: str, book_id: str) -> ItemBookDocument:
        return await self._repo(tenant_id).get(
            self._key(tenant_id, book_id), what=f"Item book {book_id}"
        )

    async def list(self, tenant_id: str, params: PageParams) -> Page[ItemBookDocument]:
        return await self._repo(tenant_id).list({"tenant_id": tenant_id}, params)

    async def detail(self, tenant_id: str, book_id: str, store_code: str) -> ItemBookResponse:
        """The book with each button's description and price (store price when set)."""
        doc = await self.get(tenant_id, book_id)
        codes = sorted({b.item_code for c in doc.categories for t in c.tabs for b in t.buttons})
        db = self._mongo.tenant_db(tenant_id)
        items = await ItemRepository(db).active_by_codes(tenant_id, codes) if codes else {}
        stores = (
            await StoreItemRepository(db).by_codes(tenant_id, store_code, codes) if codes else {}
        )
        prices: PriceBook = {}
        for code, item in items.items():
            store = stores.get(code)
            prices[code] = (item.description, store.store_price if store else item.unit_price)
        return book_out(doc, prices)

    async def update(
        self, actor: Principal, tenant_id: str, book_id: str, body: ItemBookCreateRequest
    ) -> ItemBookDocument:
        categories = [category_doc(c) for c in body.categories or []]

        def change(doc: ItemBookDocument) -> None:
            doc.title = body.title
            doc.categories = categories

        return await self._mutate(actor, tenant_id, book_id, change)

    async def delete(self, tenant_id: str, book_id: str) -> None:
        if not await self._repo(tenant_id).delete(self._key(tenant_id, book_id)):
            raise NotFoundError(f"Item book {book_id} not found")

    async def _mutate(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        change: Callable[[ItemBookDocument], None],
    ) -> ItemBookDocument:
        repo = self._repo(tenant_id, actor)
        key = self._key(tenant_id, book_id)
        for _ in range(MUTATE_TRIES):
            doc = await repo.get(key, what=f"Item book {book_id}")
            version = doc.version
            change(doc)
            doc.version = version + 1
            guard = {"version": version} if version else {"version": {"$in": [0, None]}}
            if await repo.replace({**key, **guard}, doc):
                return doc
        raise ConflictError(f"Item book {book_id} is being changed concurrently; retry")

    # ---- categories ------------------------------------------------------------------------

    async def add_category(
        self, actor: Principal, tenant_id: str, book_id: str, body: ItemBookCategory
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            if any(c.category_number == body.category_number for c in doc.categories):
                raise AlreadyExistsError(f"Category {body.category_number} already exists")
            doc.categories.append(category_doc(body))

        return await self._mutate(actor, tenant_id, book_id, change)

    async def update_category(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        number: int,
        body: ItemBookCategory,
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            category = _category(doc, number)
            if body.category_number != number and any(
                c.category_number == body.category_number for c in doc.categories
            ):
                raise AlreadyExistsError(f"Category {body.category_number} already exists")
            category.category_number = body.category_number
            category.title = body.title
            category.color = body.color
            if "tabs" in body.model_fields_set and body.tabs is not None:
                category.tabs = [tab_doc(t) for t in body.tabs]

        return await self._mutate(actor, tenant_id, book_id, change)

    async def delete_category(
        self, actor: Principal, tenant_id: str, book_id: str, number: int
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            doc.categories.remove(_category(doc, number))

        return await self._mutate(actor, tenant_id, book_id, change)

    # ---- tabs ------------------------------------------------------------------------------

    async def add_tab(
        self, actor: Principal, tenant_id: str, book_id: str, category: int, body: ItemBookTab
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            tabs = _category(doc, category).tabs
            if any(t.tab_number == body.tab_number for t in tabs):
                raise AlreadyExistsError(f"Tab {body.tab_number} already exists")
            tabs.append(tab_doc(body))

        return await self._mutate(actor, tenant_id, book_id, change)

    async def update_tab(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        category: int,
        number: int,
        body: ItemBookTab,
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            tab = _tab(doc, category, number)
            siblings = _category(doc, category).tabs
            if body.tab_number != number and any(t.tab_number == body.tab_number for t in siblings):
                raise AlreadyExistsError(f"Tab {body.tab_number} already exists")
            tab.tab_number = body.tab_number
            tab.title = body.title
            tab.color = body.color
            if "buttons" in body.model_fields_set and body.buttons is not None:
                tab.buttons = [button_doc(b) for b in body.buttons]

        return await self._mutate(actor, tenant_id, book_id, change)

    async def delete_tab(
        self, actor: Principal, tenant_id: str, book_id: str, category: int, number: int
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            _category(doc, category).tabs.remove(_tab(doc, category, number))

        return await self._mutate(actor, tenant_id, book_id, change)

    # ---- buttons ---------------------------------------------------------------------------

    async def add_button(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        category: int,
        tab: int,
        body: ItemBookButton,
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            buttons = _tab(doc, category, tab).buttons
            if any((b.pos_x, b.pos_y) == (body.pos_x, body.pos_y) for b in buttons):
                raise AlreadyExistsError(f"Position ({body.pos_x}, {body.pos_y}) is already taken")
            buttons.append(button_doc(body))

        return await self._mutate(actor, tenant_id, book_id, change)

    async def update_button(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        category: int,
        tab: int,
        position: tuple[int, int],
        body: ItemBookButton,
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            button = _button(doc, category, tab, *position)
            target = (body.pos_x, body.pos_y)
            buttons = _tab(doc, category, tab).buttons
            if target != position and any((b.pos_x, b.pos_y) == target for b in buttons):
                raise AlreadyExistsError(f"Position {target} is already taken")
            replacement = button_doc(body)
            buttons[buttons.index(button)] = replacement

        return await self._mutate(actor, tenant_id, book_id, change)

    async def delete_button(
        self,
        actor: Principal,
        tenant_id: str,
        book_id: str,
        category: int,
        tab: int,
        position: tuple[int, int],
    ) -> ItemBookDocument:
        def change(doc: ItemBookDocument) -> None:
            _tab(doc, category, tab).buttons.remove(_button(doc, category, tab, *position))

        return await self._mutate(actor, tenant_id, book_id, change)
