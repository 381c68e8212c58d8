"""Account service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache
from typing import Self

from pydantic import model_validator

from kugelpos.common.settings import CommonSettings


class AccountSettings(CommonSettings):
    service_name: str = "account"
    db_name_prefix: str = "db_account"
    token_expire_minutes: int = 30
    # Self-service tenant registration (POST /api/v1/accounts/register). Unset: open in
    # development, closed elsewhere; a deployment opens it explicitly (REGISTRATION_OPEN=true)
    # for as long as it provisions tenants that way.
    registration_open: bool | None = None
    bcrypt_rounds: int = 12
    login_max_failures: int = 5
    login_failure_window_seconds: int = 60

    @model_validator(mode="after")
    def _registration_default(self) -> Self:
        if self.registration_open is None:
            self.registration_open = self.is_development
        return self


@cache
def get_settings() -> AccountSettings:
    return AccountSettings()
