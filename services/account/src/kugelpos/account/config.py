"""Account service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache
from typing import Self

from pydantic import Field, model_validator

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
    # Failed logins are throttled per (tenant, user, client address): the 5th failure in a
    # row makes that key wait LOGIN_DELAY_SECONDS, each further one twice as long, at most
    # LOGIN_MAX_DELAY_SECONDS; its failures are forgotten LOGIN_FAILURE_WINDOW_SECONDS after
    # its last wait ends (or at once on a success). Never a lock.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_delay_seconds: float = Field(default=5.0, gt=0)
    login_max_delay_seconds: float = Field(default=900.0, gt=0)

    @model_validator(mode="after")
    def _registration_default(self) -> Self:
        if self.registration_open is None:
            self.registration_open = self.is_development
        return self


@cache
def get_settings() -> AccountSettings:
    return AccountSettings()
