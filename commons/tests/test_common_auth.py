"""Auth: JWT issue/verify, principal classification, the FastAPI dependencies, password and
API-key hashing."""

from __future__ import annotations

import math
import string
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import APIRouter, Depends

from kugelpos.common.auth.api_keys import (
    generate_api_key,
    hash_api_key,
    secrets_equal,
    verify_api_key,
)
from kugelpos.common.auth.dependencies import (
    CurrentPrincipal,
    TokenPrincipal,
    ensure_tenant,
    ensure_terminal,
    get_notifier,
    get_tenant_setup_caller,
    require_roles,
)
from kugelpos.common.auth.passwords import (
    BCRYPT_MAX_BYTES,
    dummy_hash,
    hash_password,
    verify_password,
)
from kugelpos.common.auth.principal import Principal, PrincipalKind
from kugelpos.common.auth.tokens import ISSUER, TERMINAL_ISSUER, TokenCodec
from kugelpos.common.errors import AuthenticationError, PermissionDeniedError
from kugelpos.common.events.subscriptions import DaprSubscriptions

SECRET = "unit-test-secret-key-0123456789abcdef"  # the `settings` fixture's key
NOTIFY_KEY = "notify-key-for-tests-0123456789abcdef"
HOUR = timedelta(hours=1)


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET)


def _user_token(codec: TokenCodec, **overrides) -> str:
    args = {
        "username": "alice",
        "tenant_id": "A1234",
        "is_superuser": False,
        "roles": ["manager"],
        "lifetime": HOUR,
    } | overrides
    return codec.issue_user_token(**args)


def _terminal_token(codec: TokenCodec, terminal_id: str = "A1234-5678-9") -> str:
    return codec.encode(
        {
            "sub": terminal_id,
            "tenant_id": "A1234",
            "terminal_id": terminal_id,
            "token_type": "terminal",
            "iss": TERMINAL_ISSUER,
            "is_superuser": True,  # must not make a terminal a superuser
        },
        HOUR,
    )


def _raw(claims: dict, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _future() -> datetime:
    return datetime.now(UTC) + HOUR


# --- tokens ---------------------------------------------------------------------------------


def test_terminal_tokens_of_the_terminal_issuer_only_are_accepted(codec: TokenCodec) -> None:
    # v1's and the spec's `terminal-service`; any other issuer is refused, the `kugelpos` of
    # user and service tokens included.
    claims = {"sub": "terminal:T1", "tenant_id": "A1234", "terminal_id": "T1"}
    token = _raw(claims | {"token_type": "terminal", "iss": TERMINAL_ISSUER, "exp": _future()})
    assert codec.principal(token).kind is PrincipalKind.TERMINAL
    for issuer in ("someone-else", ISSUER, None):
        claims = {"sub": "terminal:T1", "tenant_id": "A1234", "token_type": "terminal"}
        if issuer:
            claims["iss"] = issuer
        with pytest.raises(AuthenticationError):
            codec.principal(_raw(claims | {"exp": _future()}))


def test_user_token_roundtrip(codec: TokenCodec) -> None:
    token = _user_token(codec, is_superuser=True, roles=["admin", "manager"])
    claims = codec.decode(token)
    assert claims["sub"] == "alice"
    assert claims["tenant_id"] == "A1234"
    assert claims["iss"] == ISSUER
    assert claims["token_type"] == "user"
    assert claims["exp"] - claims["iat"] == 3600
    principal = codec.principal(token)
    assert principal.kind is PrincipalKind.USER
    assert principal.username == "alice"
    assert principal.tenant_id == "A1234"
    assert principal.is_superuser
    assert principal.roles == frozenset({"admin", "manager"})
    assert principal.terminal_id is None and principal.service is None
    assert principal.token == token
    assert token not in repr(principal)


def test_service_token_roundtrip(codec: TokenCodec) -> None:
    token = codec.issue_service_token(service="cart", tenant_id="A1234")
    claims = codec.decode(token)
    assert claims["sub"] == "service:cart"
    assert claims["is_service_account"] is True
    assert claims["exp"] - claims["iat"] == 300
    principal = codec.principal(token)
    assert principal.kind is PrincipalKind.SERVICE
    assert principal.service == "cart"
    assert principal.tenant_id == "A1234"
    assert not principal.is_superuser


def test_terminal_token_classified(codec: TokenCodec) -> None:
    principal = codec.principal(_terminal_token(codec))
    assert principal.kind is PrincipalKind.TERMINAL
    assert principal.terminal_id == "A1234-5678-9"
    assert not principal.is_superuser
    assert principal.service is None


def test_legacy_service_flag_without_token_type(codec: TokenCodec) -> None:
    token = codec.encode(
        {
            "sub": "service:report",
            "tenant_id": "A1234",
            "service": "report",
            "is_service_account": True,
        },
        HOUR,
    )
    principal = codec.principal(token)
    assert principal.kind is PrincipalKind.SERVICE
    assert principal.service == "report"


def test_token_without_type_is_user_and_bad_roles_ignored(codec: TokenCodec) -> None:
    token = codec.encode({"sub": "bob", "tenant_id": "B2000", "roles": "admin"}, HOUR)
    principal = codec.principal(token)
    assert principal.kind is PrincipalKind.USER
    assert principal.roles == frozenset()
    assert not principal.has_any_role("admin")


def test_expired_token_refused(codec: TokenCodec) -> None:
    token = _user_token(codec, lifetime=timedelta(seconds=-5))
    with pytest.raises(AuthenticationError, match="expired") as info:
        codec.decode(token)
    assert info.value.status_code == 401
    assert info.value.headers == {"WWW-Authenticate": "Bearer"}


def test_forged_signature_refused(codec: TokenCodec) -> None:
    forged = TokenCodec("another-secret-key-0123456789abcdefgh")
    with pytest.raises(AuthenticationError, match="Could not validate"):
        codec.principal(_user_token(forged))


def test_tampered_payload_refused(codec: TokenCodec) -> None:
    header, _, signature = _user_token(codec).split(".")
    other_payload = _user_token(codec, tenant_id="Z9999").split(".")[1]
    with pytest.raises(AuthenticationError):
        codec.decode(f"{header}.{other_payload}.{signature}")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "alice", "tenant_id": "A1234"},  # no exp
        {"tenant_id": "A1234", "exp": "FUTURE"},  # no sub
    ],
)
def test_missing_required_claims_refused(codec: TokenCodec, claims: dict) -> None:
    claims = {k: (_future() if v == "FUTURE" else v) for k, v in claims.items()}
    with pytest.raises(AuthenticationError):
        codec.decode(_raw(claims))


@pytest.mark.parametrize("tenant", [None, "", 42])
def test_missing_or_bad_tenant_refused(codec: TokenCodec, tenant) -> None:
    claims = {"sub": "alice", "exp": _future()}
    if tenant is not None:
        claims["tenant_id"] = tenant
    with pytest.raises(AuthenticationError):
        codec.principal(_raw(claims))


def test_alg_none_refused(codec: TokenCodec) -> None:
    token = jwt.encode(
        {"sub": "alice", "tenant_id": "A1234", "exp": _future()}, key=None, algorithm="none"
    )
    assert token.endswith(".")  # unsigned
    with pytest.raises(AuthenticationError):
        codec.principal(token)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_hmac_algorithm_refused(codec: TokenCodec) -> None:
    token = _raw({"sub": "alice", "tenant_id": "A1234", "exp": _future()}, algorithm="HS512")
    with pytest.raises(AuthenticationError):
        codec.principal(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z", "😀.😀.😀"])
def test_garbage_refused(codec: TokenCodec, garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        codec.principal(garbage)


def test_principal_roles() -> None:
    user = Principal(PrincipalKind.USER, "u", "A1234", roles=frozenset({"manager"}))
    assert user.has_any_role("admin", "manager")
    assert not user.has_any_role("admin")
    admin = Principal(PrincipalKind.USER, "root", "A1234", is_superuser=True)
    assert admin.has_any_role("anything")


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (Principal(PrincipalKind.USER, "root", "A1", is_superuser=True), True),
        (Principal(PrincipalKind.USER, "m", "A1", roles=frozenset({"manager"})), True),
        (Principal(PrincipalKind.SERVICE, "service:terminal", "A1", service="terminal"), True),
        (Principal(PrincipalKind.USER, "clerk", "A1", roles=frozenset({"user"})), False),
        (Principal(PrincipalKind.TERMINAL, "A1-S1-1", "A1", terminal_id="A1-S1-1"), False),
    ],
)
async def test_tenant_setup_caller(principal: Principal, allowed: bool) -> None:
    """Regression (access matrix, issue 12): every service's tenant set-up took a plain user
    (and the cart's even a till); only a manager, an admin or a service may set a tenant up."""
    if allowed:
        assert await get_tenant_setup_caller(principal) is principal
    else:
        with pytest.raises(PermissionDeniedError):
            await get_tenant_setup_caller(principal)


# --- dependencies ---------------------------------------------------------------------------


class RecordingResolver:
    """Terminal credentials: `good-key` is the key; a terminal JWT is current unless its
    terminal is in `revoked`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.revoked: set[str] = set()
        self.forgotten: list[str] = []

    async def verify_token(self, principal: Principal) -> Principal:
        if principal.terminal_id in self.revoked:
            raise AuthenticationError("Terminal credential revoked")
        return principal

    async def forget(self, terminal_id: str) -> None:
        self.forgotten.append(terminal_id)

    async def __call__(self, terminal_id: str, api_key: str) -> Principal:
        self.calls.append((terminal_id, api_key))
        if api_key != "good-key":
            raise AuthenticationError("Invalid API key")
        return Principal(
            PrincipalKind.TERMINAL, terminal_id, terminal_id.split("-")[0], terminal_id=terminal_id
        )


def _describe(p: Principal | None) -> dict:
    if p is None:
        return {"notifier": "api_key"}
    return {
        "kind": p.kind.value,
        "subject": p.subject,
        "tenant": p.tenant_id,
        "terminal": p.terminal_id,
    }


router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return _describe(principal)


@router.get("/terminals/{terminal_id}/status")
async def terminal_status(terminal_id: str, principal: CurrentPrincipal) -> dict:
    ensure_terminal(principal, terminal_id)
    return _describe(principal)


@router.get("/token-only")
async def token_only(principal: TokenPrincipal) -> dict:
    return _describe(principal)


@router.get("/admin")
async def admin_only(
    user: Annotated[Principal, Depends(require_roles("admin"))],
) -> dict:
    return _describe(user)


@router.get("/tenants/{tenant_id}")
async def tenant_scoped(tenant_id: str, principal: CurrentPrincipal) -> dict:
    ensure_tenant(principal, tenant_id)
    return _describe(principal)


@router.post("/delivery-status")
async def delivery_status(
    notifier: Annotated[Principal | None, Depends(get_notifier)],
) -> dict:
    return _describe(notifier)


@pytest.fixture
def resolver() -> RecordingResolver:
    return RecordingResolver()


@pytest.fixture
def client(make_app, client_for, resolver) -> httpx.AsyncClient:
    return client_for(make_app([router], terminal_credentials=lambda self: resolver))


@pytest.fixture
def no_resolver_client(make_app, client_for) -> httpx.AsyncClient:
    return client_for(make_app([router]))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_bearer_user(client, codec) -> None:
    response = await client.get("/me", headers=_bearer(_user_token(codec)))
    assert response.status_code == 200
    assert response.json() == {
        "kind": "user",
        "subject": "alice",
        "tenant": "A1234",
        "terminal": None,
    }


async def test_bearer_wins_over_api_key(client, codec, resolver) -> None:
    headers = _bearer(_user_token(codec)) | {"X-API-KEY": "good-key"}
    response = await client.get("/me", params={"terminal_id": "B1000-1-1"}, headers=headers)
    assert response.json()["kind"] == "user"
    assert resolver.calls == []


async def test_invalid_bearer_never_falls_back_to_api_key(client, resolver) -> None:
    headers = _bearer("not-a-jwt") | {"X-API-KEY": "good-key"}
    response = await client.get("/me", params={"terminal_id": "A1234-1-1"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "200001"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert resolver.calls == []


async def test_expired_bearer_is_401(client, codec) -> None:
    token = _user_token(codec, lifetime=timedelta(seconds=-1))
    response = await client.get("/me", headers=_bearer(token))
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


async def test_api_key_with_query_terminal_id(client, resolver) -> None:
    response = await client.get(
        "/me", params={"terminal_id": "A1234-5678-9"}, headers={"x-api-key": "good-key"}
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "terminal"
    assert response.json()["tenant"] == "A1234"
    assert resolver.calls == [("A1234-5678-9", "good-key")]


async def test_api_key_with_path_terminal_id(client, resolver) -> None:
    response = await client.get("/terminals/A1234-5678-9/status", headers={"X-API-KEY": "good-key"})
    assert response.status_code == 200
    assert response.json()["terminal"] == "A1234-5678-9"
    assert resolver.calls == [("A1234-5678-9", "good-key")]


async def test_api_key_needs_terminal_id(client, resolver) -> None:
    response = await client.get("/me", headers={"X-API-KEY": "good-key"})
    assert response.status_code == 401
    assert "terminal_id" in response.json()["message"]
    assert resolver.calls == []


async def test_bad_api_key_is_401(client, resolver) -> None:
    response = await client.get(
        "/me", params={"terminal_id": "A1234-1-1"}, headers={"X-API-KEY": "wrong"}
    )
    assert response.status_code == 401
    assert resolver.calls == [("A1234-1-1", "wrong")]


async def test_api_key_without_resolver_is_401(no_resolver_client) -> None:
    response = await no_resolver_client.get(
        "/me", params={"terminal_id": "A1234-1-1"}, headers={"X-API-KEY": "good-key"}
    )
    assert response.status_code == 401


async def test_no_credentials_is_401_with_challenge(client) -> None:
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "200001"
    assert body["userError"]["code"] == "200001"


async def test_token_only_refuses_api_key(client, codec, resolver) -> None:
    response = await client.get(
        "/token-only", params={"terminal_id": "A1234-1-1"}, headers={"X-API-KEY": "good-key"}
    )
    assert response.status_code == 401
    assert resolver.calls == []
    ok = await client.get("/token-only", headers=_bearer(_terminal_token(codec)))
    assert ok.json()["kind"] == "terminal"


async def test_require_roles(client, codec) -> None:
    manager = await client.get("/admin", headers=_bearer(_user_token(codec, roles=["manager"])))
    assert manager.status_code == 403
    assert manager.json()["code"] == "200002"
    admin = await client.get("/admin", headers=_bearer(_user_token(codec, roles=["admin"])))
    assert admin.status_code == 200
    superuser = await client.get(
        "/admin", headers=_bearer(_user_token(codec, roles=[], is_superuser=True))
    )
    assert superuser.status_code == 200


async def test_require_roles_refuses_non_users(client, codec) -> None:
    service = codec.issue_service_token(service="cart", tenant_id="A1234")
    assert (await client.get("/admin", headers=_bearer(service))).status_code == 403
    terminal = _terminal_token(codec)
    assert (await client.get("/admin", headers=_bearer(terminal))).status_code == 403
    assert (await client.get("/admin")).status_code == 401


async def test_ensure_tenant_refuses_other_tenant(client, codec) -> None:
    token = _user_token(codec)
    assert (await client.get("/tenants/A1234", headers=_bearer(token))).status_code == 200
    response = await client.get("/tenants/B9999", headers=_bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "200002"


async def test_ensure_terminal_binds_terminal_token(client, codec) -> None:
    token = _terminal_token(codec, "A1234-5678-9")
    assert (
        await client.get("/terminals/A1234-5678-9/status", headers=_bearer(token))
    ).status_code == 200
    other = await client.get("/terminals/A1234-5678-8/status", headers=_bearer(token))
    assert other.status_code == 403
    # a user of the tenant is not bound to one terminal
    user = await client.get("/terminals/A1234-5678-8/status", headers=_bearer(_user_token(codec)))
    assert user.status_code == 200


async def test_notifier_service_token(client, codec) -> None:
    token = codec.issue_service_token(service="report", tenant_id="A1234")
    response = await client.post("/delivery-status", headers=_bearer(token))
    assert response.status_code == 200
    assert response.json()["kind"] == "service"


async def test_notifier_user_token_forbidden(client, codec) -> None:
    response = await client.post("/delivery-status", headers=_bearer(_user_token(codec)))
    assert response.status_code == 403


async def test_notifier_shared_key(client) -> None:
    response = await client.post("/delivery-status", headers={"X-API-KEY": NOTIFY_KEY})
    assert response.status_code == 200
    assert response.json() == {"notifier": "api_key"}


@pytest.mark.parametrize("headers", [{}, {"X-API-KEY": "wrong"}, {"X-API-KEY": NOTIFY_KEY[:-1]}])
async def test_notifier_refused(client, headers) -> None:
    response = await client.post("/delivery-status", headers=headers)
    assert response.status_code == 401


async def test_notifier_invalid_bearer_does_not_fall_back(client) -> None:
    response = await client.post(
        "/delivery-status", headers=_bearer("x.y.z") | {"X-API-KEY": NOTIFY_KEY}
    )
    assert response.status_code == 401


def test_ensure_helpers_directly() -> None:
    terminal = Principal(PrincipalKind.TERMINAL, "T", "A1234", terminal_id="A1234-1-1")
    ensure_tenant(terminal, "A1234")
    ensure_terminal(terminal, "A1234-1-1")
    with pytest.raises(PermissionDeniedError):
        ensure_tenant(terminal, "a1234")  # exact match, no case folding
    with pytest.raises(PermissionDeniedError):
        ensure_terminal(terminal, "A1234-1-2")
    service = Principal(PrincipalKind.SERVICE, "service:cart", "A1234", service="cart")
    ensure_terminal(service, "A1234-1-2")


# --- passwords ------------------------------------------------------------------------------


def test_hash_and_verify_password() -> None:
    hashed = hash_password("correct horse", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsE", hashed)
    assert not verify_password("", hashed)
    assert hash_password("correct horse", rounds=4) != hashed  # salted


def test_unicode_password() -> None:
    hashed = hash_password("パスワード🔑", rounds=4)
    assert verify_password("パスワード🔑", hashed)
    assert not verify_password("パスワード", hashed)


def test_long_passwords_differ_beyond_72_bytes() -> None:
    prefix = "p" * BCRYPT_MAX_BYTES
    hashed = hash_password(prefix + "-one", rounds=4)
    assert verify_password(prefix + "-one", hashed)
    assert not verify_password(prefix + "-two", hashed)
    assert not verify_password(prefix, hashed)
    # multi-byte characters straddling the limit
    long_jp = "あ" * 30  # 90 bytes
    hashed_jp = hash_password(long_jp, rounds=4)
    assert verify_password(long_jp, hashed_jp)
    assert not verify_password("あ" * 24 + "い" * 6, hashed_jp)


def test_exactly_72_bytes() -> None:
    password = "q" * BCRYPT_MAX_BYTES
    hashed = hash_password(password, rounds=4)
    assert verify_password(password, hashed)
    assert not verify_password(password[:-1], hashed)


@pytest.mark.parametrize(
    "bad", ["", "not-a-hash", "$2b$04$short", "ハッシュ", "$2b$99$" + "a" * 53]
)
def test_bad_hash_is_false(bad: str) -> None:
    assert verify_password("anything", bad) is False


def test_dummy_hash_is_real_and_cached() -> None:
    assert dummy_hash() is dummy_hash()
    assert dummy_hash().startswith("$2b$")
    assert not verify_password("anything", dummy_hash())


# --- API keys -------------------------------------------------------------------------------


def test_generate_api_key_length_alphabet_entropy() -> None:
    keys = [generate_api_key() for _ in range(200)]
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert len(key) == 43  # 32 random bytes, url-safe base64 without padding
        assert set(key) <= alphabet
    # every position varies and the characters are spread out: ~6 bits per char
    counts = Counter("".join(keys))
    total = sum(counts.values())
    entropy = -sum(c / total * math.log2(c / total) for c in counts.values())
    assert entropy > 5.8
    assert len(counts) > 60


def test_hash_and_verify_api_key() -> None:
    key = generate_api_key()
    hashed = hash_api_key(key)
    assert len(hashed) == 64 and set(hashed) <= set("0123456789abcdef")
    assert key not in hashed
    assert hash_api_key(key) == hashed  # deterministic, so it can be looked up
    assert verify_api_key(key, hashed)
    assert not verify_api_key(key + "x", hashed)
    assert not verify_api_key(key, hashed.upper())
    assert not verify_api_key("", hashed)


def test_secrets_equal() -> None:
    assert secrets_equal("abc", "abc")
    assert not secrets_equal("abc", "abd")
    assert not secrets_equal("abc", "abcd")
    assert not secrets_equal("", "abc")
    assert secrets_equal("ключ🔑", "ключ🔑")  # non-ASCII is fine


async def test_a_revoked_terminal_token_is_refused_on_every_dependency(
    client, codec, resolver
) -> None:
    """A terminal JWT is checked live: once its terminal is deleted or re-keyed, the same
    signed, unexpired token is a 401 wherever a principal is taken from it."""
    token = _terminal_token(codec, "A1234-5678-9")
    assert (await client.get("/me", headers=_bearer(token))).status_code == 200
    resolver.revoked.add("A1234-5678-9")
    for path in ("/me", "/token-only", "/terminals/A1234-5678-9/status"):
        r = await client.get(path, headers=_bearer(token))
        assert r.status_code == 401, (path, r.text)
        assert r.json()["code"] == "200001"
    # A user token never asks the terminal check.
    assert (await client.get("/me", headers=_bearer(_user_token(codec)))).status_code == 200


async def test_terminal_changed_notices_drop_cached_approvals(
    make_app, client_for, resolver
) -> None:
    """With subscriptions, the app listens to `terminal_changed` on the broadcast pub/sub and
    hands each well-formed notice to its terminal credentials' `forget`."""
    subs = DaprSubscriptions()
    app = make_app([router], terminal_credentials=lambda self: resolver, subscriptions=subs)
    client = client_for(app)
    declared = (await client.get("/dapr/subscribe")).json()
    assert {"pubsubname": "pubsub-broadcast", "topic": "terminal_changed"} in [
        {k: entry[k] for k in ("pubsubname", "topic")} for entry in declared
    ]
    route = next(e["route"] for e in declared if e["topic"] == "terminal_changed")

    async def deliver(data: object) -> str:
        event = {"specversion": "1.0", "id": "e1", "datacontenttype": "application/json"}
        r = await client.post(route, json=event | {"data": data})
        assert r.status_code == 200
        return r.json()["status"]

    notice = {"tenant_id": "A1234", "terminal_id": "A1234-S1-1", "reason": "key_rotated"}
    assert await deliver(notice) == "SUCCESS"
    assert resolver.forgotten == ["A1234-S1-1"]
    # Not a notice, or a terminal of another tenant than the one named: dropped, nothing done.
    assert await deliver({"tenant_id": "A1234"}) == "DROP"
    assert await deliver({"tenant_id": "B1", "terminal_id": "A1234-S1-1"}) == "DROP"
    assert resolver.forgotten == ["A1234-S1-1"]
