"""How an item book is stored in `master_key_preset` (the v1 collection name)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, field_validator

from ..documents import MasterDocument


class ButtonSize(StrEnum):
    SINGLE = "Single"
    DOUBLE_WIDTH = "DoubleWidth"
    DOUBLE_HEIGHT = "DoubleHeight"
    QUAD = "Quad"


def _list(value: Any) -> Any:
    return [] if value is None else value  # v1 data may hold null child lists


class ButtonDoc(BaseModel):
    pos_x: int
    pos_y: int
    size: ButtonSize
    image_url: str
    color_text: str
    item_code: str


class TabDoc(BaseModel):
    tab_number: int
    title: str
    color: str
    buttons: list[ButtonDoc] = []

    _none_is_empty = field_validator("buttons", mode="before")(_list)


class CategoryDoc(BaseModel):
    category_number: int
    title: str
    color: str
    tabs: list[TabDoc] = []

    _none_is_empty = field_validator("tabs", mode="before")(_list)


class ItemBookDocument(MasterDocument):
    item_book_id: str
    title: str
    categories: list[CategoryDoc] = []
    version: int = 0  # optimistic concurrency: every change replaces version n with n + 1

    _none_is_empty = field_validator("categories", mode="before")(_list)
