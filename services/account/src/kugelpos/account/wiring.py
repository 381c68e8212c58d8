"""The account service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.wiring import RemoteTerminalsWiring

from .config import AccountSettings


class AccountWiring(RemoteTerminalsWiring[AccountSettings]):
    # No route here serves a till, but a terminal JWT is still checked live (a deleted or
    # re-keyed terminal's token is not "valid"); an API key is no credential here.
    api_keys = False

    def __init__(self, settings: AccountSettings) -> None:
        super().__init__(settings)
        self.login_limiter = self.infra.limiter(
            "login-failures",
            free_attempts=settings.login_max_failures,
            forget_after_seconds=settings.login_failure_window_seconds,
            base_delay_seconds=settings.login_delay_seconds,
            max_delay_seconds=settings.login_max_delay_seconds,
        )
