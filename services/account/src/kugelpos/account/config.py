"""Account service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from kugelpos.common.settings import CommonSettings


class AccountSettings(CommonSettings):
    service_name: str = "account"
    db_name_prefix: str = "db_account"
    token_expire_minutes: int = 30
    # Production deployments close self-service tenant registration.
    registration_open: bool = True
    bcrypt_rounds: int = 12
    login_max_failures: int = 5
    login_failure_window_seconds: int = 60


@cache
def get_settings() -> AccountSettings:
    return AccountSettings()
