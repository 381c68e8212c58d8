"""Who is calling, as established from a verified credential."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PrincipalKind(StrEnum):
    USER = "user"
    SERVICE = "service"
    TERMINAL = "terminal"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    subject: str
    tenant_id: str
    is_superuser: bool = False
    roles: frozenset[str] = frozenset()
    terminal_id: str | None = None
    service: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # The raw bearer token, for calls made on this principal's behalf; never logged.
    token: str | None = field(default=None, compare=False, repr=False)

    @property
    def username(self) -> str:
        return self.subject

    def has_any_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles.intersection(roles))

    @classmethod
    def of_terminal(
        cls, terminal_id: str, tenant_id: str, claims: dict[str, Any] | None = None
    ) -> Principal:
        """A terminal, as its API key (checked by the terminal service) makes it the caller."""
        return cls(
            kind=PrincipalKind.TERMINAL,
            subject=f"terminal:{terminal_id}",
            tenant_id=tenant_id,
            terminal_id=terminal_id,
            claims=claims or {},
        )
