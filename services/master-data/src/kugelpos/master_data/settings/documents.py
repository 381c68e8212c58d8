"""How a setting is stored in `master_settings`."""

from __future__ import annotations

from pydantic import BaseModel

from ..documents import MasterDocument


class SettingValue(BaseModel):
    store_code: str | None = None
    terminal_no: int | None = None
    value: str


class SettingsDocument(MasterDocument):
    name: str
    default_value: str
    values: list[SettingValue] = []
