"""JWT issue and verification (HS256, shared secret, `exp` always checked)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from ..clock import utcnow
from ..errors import AuthenticationError
from .principal import Principal, PrincipalKind

ISSUER = "kugelpos"
# Terminal tokens carry the spec's (and v1's) issuer; a terminal token of any other is refused.
TERMINAL_ISSUER = "terminal-service"
SERVICE_TOKEN_MINUTES = 5


class TokenCodec:
    def __init__(self, secret_key: str, algorithm: str = "HS256") -> None:
        self._secret = secret_key
        self._algorithm = algorithm

    def encode(self, claims: dict[str, Any], lifetime: timedelta) -> str:
        now = utcnow()
        payload = {"iss": ISSUER, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode(payload, self._secret, algorithm=self._algorithm)

    def decode(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Could not validate credentials") from exc

    def issue_user_token(
        self,
        *,
        username: str,
        tenant_id: str,
        is_superuser: bool,
        roles: list[str],
        lifetime: timedelta,
    ) -> str:
        return self.encode(
            {
                "sub": username,
                "tenant_id": tenant_id,
                "is_superuser": is_superuser,
                "roles": roles,
                "token_type": PrincipalKind.USER.value,
            },
            lifetime,
        )

    def issue_service_token(self, *, service: str, tenant_id: str) -> str:
        return self.encode(
            {
                "sub": f"service:{service}",
                "tenant_id": tenant_id,
                "service": service,
                "is_service_account": True,
                "is_superuser": False,
                "token_type": PrincipalKind.SERVICE.value,
            },
            timedelta(minutes=SERVICE_TOKEN_MINUTES),
        )

    def principal(self, token: str) -> Principal:
        """Verify and classify a bearer token."""
        claims = self.decode(token)
        tenant_id = claims.get("tenant_id")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise AuthenticationError("Could not validate credentials")
        token_type = claims.get("token_type")
        if token_type == PrincipalKind.TERMINAL.value:
            if claims.get("iss") != TERMINAL_ISSUER:
                raise AuthenticationError("Could not validate credentials")
            kind = PrincipalKind.TERMINAL
        elif token_type == PrincipalKind.SERVICE.value or claims.get("is_service_account"):
            kind = PrincipalKind.SERVICE
        else:
            kind = PrincipalKind.USER
        roles = claims.get("roles") or []
        return Principal(
            kind=kind,
            subject=str(claims["sub"]),
            tenant_id=tenant_id,
            is_superuser=bool(claims.get("is_superuser")) and kind is PrincipalKind.USER,
            roles=frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset(),
            terminal_id=claims.get("terminal_id") if kind is PrincipalKind.TERMINAL else None,
            service=claims.get("service") if kind is PrincipalKind.SERVICE else None,
            claims=claims,
            token=token,
        )
