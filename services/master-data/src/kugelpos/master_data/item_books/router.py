"""Item book endpoints: `/api/v1/tenants/{tenant_id}/item_books` and their categories, tabs
and buttons. Every write answers with the whole book."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kugelpos.common.envelope import ApiResponse, ok
from kugelpos.common.pagination import PageParams

from ..dependencies import ItemBookServiceDep, Reader, Writer, list_params
from .documents import ItemBookDocument
from .schemas import (
    ItemBookButton,
    ItemBookButtonDeleteResponse,
    ItemBookCategory,
    ItemBookCategoryDeleteResponse,
    ItemBookCreateRequest,
    ItemBookDeleteResponse,
    ItemBookResponse,
    ItemBookTab,
    ItemBookTabDeleteResponse,
    ItemBookUpdateRequest,
)
from .service import book_out

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/item_books", tags=["item books"])
SORTABLE = frozenset({"item_book_id", "title", "created_at", "updated_at"})
BookId = Annotated[str, Path(max_length=64)]
CategoryNo = Annotated[int, Path(ge=0, le=100_000)]
TabNo = Annotated[int, Path(ge=0, le=100_000)]
Pos = Annotated[int, Path(ge=0, le=1000)]
Params = Annotated[PageParams, Depends(list_params(SORTABLE, [("item_book_id", 1)]))]
Book = ApiResponse[ItemBookResponse]
CATEGORY = "/{item_book_id}/categories/{category_number}"
TAB = CATEGORY + "/tabs/{tab_number}"
BUTTON = TAB + "/buttons/pos_x/{pos_x}/pos_y/{pos_y}"


def _book(doc: ItemBookDocument, message: str, operation: str, code: int = 200) -> Book:
    return ok(book_out(doc), message=message, operation=operation, code=code)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Book)
async def create_item_book(
    tenant_id: str, body: ItemBookCreateRequest, actor: Writer, books: ItemBookServiceDep
) -> Book:
    doc = await books.create(actor, tenant_id, body)
    return _book(
        doc, f"Item book created. item_book_id: {doc.item_book_id}", "create_item_book", 201
    )


@router.get("", response_model=ApiResponse[list[ItemBookResponse]])
async def get_all_item_books(
    tenant_id: str, _: Reader, books: ItemBookServiceDep, params: Params
) -> ApiResponse[list[ItemBookResponse]]:
    page = await books.list(tenant_id, params)
    return ok(
        [book_out(d) for d in page.items],
        message="Item books retrieved successfully",
        operation="get_all_item_books",
        metadata=page.metadata({"tenant_id": tenant_id}),
    )


@router.get("/{item_book_id}", response_model=Book)
async def get_item_book_by_id(
    tenant_id: str,
    item_book_id: BookId,
    _: Reader,
    books: ItemBookServiceDep,
    store_code: Annotated[str | None, Query(max_length=64, description="accepted, unused")] = None,
) -> Book:
    doc = await books.get(tenant_id, item_book_id)
    return _book(doc, f"Item book found. item_book_id: {item_book_id}", "get_item_book_by_id")


@router.get("/{item_book_id}/detail", response_model=Book)
async def get_item_book_detail_by_id(
    tenant_id: str,
    item_book_id: BookId,
    _: Reader,
    books: ItemBookServiceDep,
    store_code: Annotated[str, Query(min_length=1, max_length=64)],
) -> Book:
    detail = await books.detail(tenant_id, item_book_id, store_code)
    return ok(
        detail,
        message=f"Item book detail found. item_book_id: {item_book_id}",
        operation="get_item_book_detail_by_id",
    )


@router.put("/{item_book_id}", response_model=Book)
async def update_item_book(
    tenant_id: str,
    item_book_id: BookId,
    body: ItemBookUpdateRequest,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.update(actor, tenant_id, item_book_id, body)
    return _book(doc, f"Item book updated. item_book_id: {item_book_id}", "update_item_book")


@router.delete("/{item_book_id}", response_model=ApiResponse[ItemBookDeleteResponse])
async def delete_item_book(
    tenant_id: str, item_book_id: BookId, _: Writer, books: ItemBookServiceDep
) -> ApiResponse[ItemBookDeleteResponse]:
    await books.delete(tenant_id, item_book_id)
    return ok(
        ItemBookDeleteResponse(item_book_id=item_book_id),
        message=f"Item book deleted. item_book_id: {item_book_id}",
        operation="delete_item_book",
    )


@router.post("/{item_book_id}/categories", status_code=status.HTTP_201_CREATED, response_model=Book)
async def add_category_to_item_book(
    tenant_id: str,
    item_book_id: BookId,
    body: ItemBookCategory,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.add_category(actor, tenant_id, item_book_id, body)
    return _book(doc, "Category added to item book", "add_category_to_item_book", 201)


@router.put(CATEGORY, response_model=Book)
async def update_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    body: ItemBookCategory,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.update_category(actor, tenant_id, item_book_id, category_number, body)
    return _book(doc, "Category updated in item book", "update_category_in_item_book")


@router.delete(CATEGORY, response_model=ApiResponse[ItemBookCategoryDeleteResponse])
async def delete_category_from_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    actor: Writer,
    books: ItemBookServiceDep,
) -> ApiResponse[ItemBookCategoryDeleteResponse]:
    await books.delete_category(actor, tenant_id, item_book_id, category_number)
    return ok(
        ItemBookCategoryDeleteResponse(item_book_id=item_book_id, category_number=category_number),
        message="Category deleted from item book",
        operation="delete_category_from_item_book",
    )


@router.post(CATEGORY + "/tabs", status_code=status.HTTP_201_CREATED, response_model=Book)
async def add_tab_to_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    body: ItemBookTab,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.add_tab(actor, tenant_id, item_book_id, category_number, body)
    return _book(doc, "Tab added to category", "add_tab_to_category_in_item_book", 201)


@router.put(TAB, response_model=Book)
async def update_tab_in_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    tab_number: TabNo,
    body: ItemBookTab,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.update_tab(actor, tenant_id, item_book_id, category_number, tab_number, body)
    return _book(doc, "Tab updated in category", "update_tab_in_category_in_item_book")


@router.delete(TAB, response_model=ApiResponse[ItemBookTabDeleteResponse])
async def delete_tab_from_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    tab_number: TabNo,
    actor: Writer,
    books: ItemBookServiceDep,
) -> ApiResponse[ItemBookTabDeleteResponse]:
    await books.delete_tab(actor, tenant_id, item_book_id, category_number, tab_number)
    return ok(
        ItemBookTabDeleteResponse(
            item_book_id=item_book_id, category_number=category_number, tab_number=tab_number
        ),
        message="Tab deleted from category",
        operation="delete_tab_from_category_in_item_book",
    )


@router.post(TAB + "/buttons", status_code=status.HTTP_201_CREATED, response_model=Book)
async def add_button_to_tab_in_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    tab_number: TabNo,
    body: ItemBookButton,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.add_button(actor, tenant_id, item_book_id, category_number, tab_number, body)
    return _book(doc, "Button added to tab", "add_button_to_tab_in_category_in_item_book", 201)


@router.put(BUTTON, response_model=Book)
async def update_button_in_tab_in_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    tab_number: TabNo,
    pos_x: Pos,
    pos_y: Pos,
    body: ItemBookButton,
    actor: Writer,
    books: ItemBookServiceDep,
) -> Book:
    doc = await books.update_button(
        actor, tenant_id, item_book_id, category_number, tab_number, (pos_x, pos_y), body
    )
    return _book(doc, "Button updated in tab", "update_button_in_tab_in_category_in_item_book")


@router.delete(BUTTON, response_model=ApiResponse[ItemBookButtonDeleteResponse])
async def delete_button_from_tab_in_category_in_item_book(
    tenant_id: str,
    item_book_id: BookId,
    category_number: CategoryNo,
    tab_number: TabNo,
    pos_x: Pos,
    pos_y: Pos,
    actor: Writer,
    books: ItemBookServiceDep,
) -> ApiResponse[ItemBookButtonDeleteResponse]:
    await books.delete_button(
        actor, tenant_id, item_book_id, category_number, tab_number, (pos_x, pos_y)
    )
    return ok(
        ItemBookButtonDeleteResponse(
            item_book_id=item_book_id,
            category_number=category_number,
            tab_number=tab_number,
            pos_x=pos_x,
            pos_y=pos_y,
        ),
        message="Button deleted from tab",
        operation="delete_button_from_tab_in_category_in_item_book",
    )
