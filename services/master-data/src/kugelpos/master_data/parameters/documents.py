"""How a parameter is stored (in `master_settings`, the collection v1 named)."""

from __future__ import annotations

from pydantic import BaseModel

from ..documents import MasterDocument


class ParameterValue(BaseModel):
    store_code: str | None = None
    terminal_no: int | None = None
    value: str


class ParameterDocument(MasterDocument):
    name: str
    default_value: str
    values: list[ParameterValue] = []
