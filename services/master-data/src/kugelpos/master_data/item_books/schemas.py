"""API models of item books. Numbers and positions must be unique among siblings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, model_validator

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, Name, Number, TimestampedResponse, Url
from .documents import ButtonSize

Position = Annotated[int, Field(ge=0, le=1000)]
Ordinal = Annotated[int, Field(ge=0, le=100_000)]
Color = Annotated[str, Field(max_length=64)]
MAX_CHILDREN = 500


def _unique(keys: Iterable[object], what: str) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"duplicate {what} {key}")
        seen.add(key)


class ItemBookButton(ApiModel):
    pos_x: Position
    pos_y: Position
    size: ButtonSize
    image_url: Url
    color_text: Color
    item_code: Code
    # Response only (filled by the detail endpoint), ignored on input.
    unit_price: Number | None = None
    description: str | None = None


class ItemBookTab(ApiModel):
    tab_number: Ordinal
    title: Name
    color: Color
    buttons: list[ItemBookButton] | None = Field(default_factory=list, max_length=MAX_CHILDREN)

    @model_validator(mode="after")
    def _unique_positions(self) -> ItemBookTab:
        _unique(((b.pos_x, b.pos_y) for b in self.buttons or []), "button position")
        return self


class ItemBookCategory(ApiModel):
    category_number: Ordinal
    title: Name
    color: Color
    tabs: list[ItemBookTab] | None = Field(default_factory=list, max_length=MAX_CHILDREN)

    @model_validator(mode="after")
    def _unique_tabs(self) -> ItemBookCategory:
        _unique((t.tab_number for t in self.tabs or []), "tab number")
        return self


class ItemBookCreateRequest(ApiModel):
    title: Name
    categories: list[ItemBookCategory] | None = Field(default_factory=list, max_length=MAX_CHILDREN)

    @model_validator(mode="after")
    def _unique_categories(self) -> ItemBookCreateRequest:
        _unique((c.category_number for c in self.categories or []), "category number")
        return self


class ItemBookUpdateRequest(ItemBookCreateRequest):
    pass


class ItemBookResponse(TimestampedResponse):
    item_book_id: str
    title: str
    categories: list[ItemBookCategory] = []


class ItemBookDeleteResponse(ApiModel):
    item_book_id: str


class ItemBookCategoryDeleteResponse(ItemBookDeleteResponse):
    category_number: int


class ItemBookTabDeleteResponse(ItemBookCategoryDeleteResponse):
    tab_number: int


class ItemBookButtonDeleteResponse(ItemBookTabDeleteResponse):
    pos_x: int
    pos_y: int
