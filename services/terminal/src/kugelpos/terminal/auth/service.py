"""The terminal JWT (token_type "terminal"): who the terminal is and its current state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kugelpos.common.auth.principal import PrincipalKind
from kugelpos.common.auth.remote_terminal import KEY_VERSION_CLAIM
from kugelpos.common.auth.tokens import TERMINAL_ISSUER, TokenCodec

from ..terminals.documents import TerminalDocument


class TerminalTokenService:
    def __init__(self, codec: TokenCodec, expire_hours: int) -> None:
        self._codec = codec
        self.lifetime = timedelta(hours=expire_hours)

    @property
    def expires_in(self) -> int:
        return int(self.lifetime.total_seconds())

    def issue(self, terminal: TerminalDocument) -> str:
        claims: dict[str, Any] = {
            # The spec's claims table (and v1): `terminal-service`, not the default issuer.
            "iss": TERMINAL_ISSUER,
            "sub": f"terminal:{terminal.terminal_id}",
            "token_type": PrincipalKind.TERMINAL.value,
            "tenant_id": terminal.tenant_id,
            "store_code": terminal.store_code,
            "terminal_id": terminal.terminal_id,
            "terminal_no": terminal.terminal_no,
            "status": terminal.status.value,
            "open_counter": terminal.open_counter,
            "business_counter": terminal.business_counter,
            # Every service refuses the token once the terminal's key is rotated.
            KEY_VERSION_CLAIM: terminal.key_version,
        }
        if terminal.business_date is not None:
            claims["business_date"] = terminal.business_date
        if terminal.staff is not None:
            claims["staff_id"] = terminal.staff.staff_id
            claims["staff_name"] = terminal.staff.staff_name
        return self._codec.encode(claims, self.lifetime)
