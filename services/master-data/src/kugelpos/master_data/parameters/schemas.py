"""API models of parameters, named as the v1 contract names them (`SettingsMaster...`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from kugelpos.common.schemas import ApiModel

from ..schemas import Code, TimestampedResponse

MAX_VALUES = 1000
ParameterText = Annotated[str, StringConstraints(max_length=16_384)]


class BaseSettingsMasterValue(ApiModel):
    store_code: Code | None = None
    terminal_no: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    value: ParameterText

    @model_validator(mode="after")
    def _scoped(self) -> BaseSettingsMasterValue:
        if self.store_code is None and self.terminal_no is not None:
            raise ValueError("a terminal-specific value needs its storeCode")
        return self


class SettingsMasterUpdateRequest(ApiModel):
    default_value: ParameterText
    values: list[BaseSettingsMasterValue] = Field(max_length=MAX_VALUES)

    @model_validator(mode="after")
    def _unique_scopes(self) -> SettingsMasterUpdateRequest:
        scopes = [(v.store_code, v.terminal_no) for v in self.values]
        if len(scopes) != len(set(scopes)):
            raise ValueError("values: each (storeCode, terminalNo) may appear only once")
        return self


class SettingsMasterCreateRequest(SettingsMasterUpdateRequest):
    name: Code


class SettingsMasterResponse(TimestampedResponse):
    name: str
    default_value: str
    values: list[BaseSettingsMasterValue]


class SettingsMasterValueResponse(ApiModel):
    value: str


class SettingsMasterDeleteResponse(ApiModel):
    name: str
