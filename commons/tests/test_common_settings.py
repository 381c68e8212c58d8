"""Settings: environment > `.env` > defaults, and no default secret outside development."""

from __future__ import annotations

from pathlib import Path

import pytest

from kugelpos.common.settings import CommonSettings, InsecureSettingsError

STRONG = "s" * 40
STRONG_NOTIFY = "n" * 40
STRONG_APP_TOKEN = "a" * 40
STRONG_DAPR_TOKEN = "d" * 40
_VARS = (
    "ENVIRONMENT",
    "SECRET_KEY",
    "PUBSUB_NOTIFY_API_KEY",
    "LOG_LEVEL",
    "DB_NAME_PREFIX",
    "HTTP_MAX_ATTEMPTS",
    "BASE_URL_MASTER_DATA",
    "MONGODB_URI",
    "APP_API_TOKEN",
    "DAPR_API_TOKEN",
    "DAPR_API_TOKEN_REQUIRED",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test starts in an empty directory (no `.env`) with none of our variables set."""
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write_env(directory: Path, **values: str) -> None:
    lines = [f"{key}={value}" for key, value in values.items()]
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_defaults_apply_when_nothing_is_set() -> None:
    s = CommonSettings(environment="development")
    assert s.db_name_prefix == "db_common"
    assert s.algorithm == "HS256"
    assert s.http_max_attempts == 3
    assert s.breaker_failure_threshold == 3
    assert s.breaker_reset_seconds == 60.0
    assert s.dapr_http_endpoint == "http://127.0.0.1:3500"
    assert s.is_development


def test_dotenv_overrides_defaults(clean_env: Path) -> None:
    _write_env(
        clean_env, ENVIRONMENT="development", DB_NAME_PREFIX="db_from_file", LOG_LEVEL="DEBUG"
    )
    s = CommonSettings()
    assert s.db_name_prefix == "db_from_file"
    assert s.log_level == "DEBUG"
    assert s.is_development


def test_environment_overrides_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_env(
        clean_env, ENVIRONMENT="development", DB_NAME_PREFIX="db_from_file", HTTP_MAX_ATTEMPTS="5"
    )
    monkeypatch.setenv("DB_NAME_PREFIX", "db_from_env")
    s = CommonSettings()
    assert s.db_name_prefix == "db_from_env"  # env wins over .env
    assert s.http_max_attempts == 5  # .env still wins over the default


def test_empty_environment_value_is_ignored(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_env(clean_env, ENVIRONMENT="development", DB_NAME_PREFIX="db_from_file")
    monkeypatch.setenv("DB_NAME_PREFIX", "")
    assert CommonSettings().db_name_prefix == "db_from_file"


def test_production_with_strong_secrets_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("PUBSUB_NOTIFY_API_KEY", STRONG_NOTIFY)
    monkeypatch.setenv("APP_API_TOKEN", STRONG_APP_TOKEN)
    monkeypatch.setenv("DAPR_API_TOKEN", STRONG_DAPR_TOKEN)
    s = CommonSettings()
    assert not s.is_development
    assert s.secret_key == STRONG
    assert s.pubsub_notify_api_key == STRONG_NOTIFY
    assert s.app_api_token == STRONG_APP_TOKEN
    assert s.dapr_api_token == STRONG_DAPR_TOKEN


def test_production_is_the_default_environment_and_refuses_default_secrets() -> None:
    with pytest.raises(InsecureSettingsError, match="SECRET_KEY"):
        CommonSettings()


@pytest.mark.parametrize(
    "secret",
    [
        "test-secret-key-for-development-only",
        "  test-secret-key-for-development-only  ",
        "changeme",
        "",
        "   ",
        "short-but-not-a-default",
        "x" * 31,
    ],
)
def test_weak_secret_key_refused_outside_development(secret: str) -> None:
    with pytest.raises(InsecureSettingsError, match="SECRET_KEY"):
        CommonSettings(environment="production", secret_key=secret, pubsub_notify_api_key=STRONG)


@pytest.mark.parametrize("key", ["test-api-key-for-development-only", "", "secret", "y" * 31])
def test_weak_notify_key_refused_outside_development(key: str) -> None:
    with pytest.raises(InsecureSettingsError, match="PUBSUB_NOTIFY_API_KEY"):
        CommonSettings(environment="staging", secret_key=STRONG, pubsub_notify_api_key=key)


def test_empty_secret_from_environment_falls_back_to_default_and_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.setenv("PUBSUB_NOTIFY_API_KEY", STRONG_NOTIFY)
    with pytest.raises(InsecureSettingsError):
        CommonSettings()


def test_default_secret_in_dotenv_refused_in_production(clean_env: Path) -> None:
    _write_env(
        clean_env,
        ENVIRONMENT="production",
        SECRET_KEY="test-secret-key-for-development-only",
        PUBSUB_NOTIFY_API_KEY=STRONG_NOTIFY,
    )
    with pytest.raises(InsecureSettingsError):
        CommonSettings()


def test_thirty_two_characters_is_enough() -> None:
    s = CommonSettings(
        environment="production",
        secret_key="k" * 32,
        pubsub_notify_api_key="p" * 32,
        app_api_token="t" * 32,
        dapr_api_token="d" * 32,
    )
    assert len(s.secret_key) == 32


@pytest.mark.parametrize("token", [None, "", "secret", "t" * 31])
def test_missing_or_weak_app_api_token_refused_outside_development(token: str | None) -> None:
    """Subscriber routes trust only the sidecar, so a deployment needs a real token."""
    with pytest.raises(InsecureSettingsError, match="APP_API_TOKEN"):
        CommonSettings(
            environment="production",
            secret_key=STRONG,
            pubsub_notify_api_key=STRONG_NOTIFY,
            app_api_token=token,
        )


@pytest.mark.parametrize("token", [None, "", "   ", "changeme", "d" * 31])
def test_missing_or_weak_dapr_api_token_refused_outside_development(token: str | None) -> None:
    """The sidecar refuses calls without its API token, so a deployment must give one."""
    with pytest.raises(InsecureSettingsError, match="DAPR_API_TOKEN"):
        CommonSettings(
            environment="production",
            secret_key=STRONG,
            pubsub_notify_api_key=STRONG_NOTIFY,
            app_api_token=STRONG_APP_TOKEN,
            dapr_api_token=token,
        )


def test_a_platform_sidecar_without_api_token_is_an_explicit_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Azure Container Apps runs daprd without DAPR_API_TOKEN; saying so is the only way in."""
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    monkeypatch.setenv("PUBSUB_NOTIFY_API_KEY", STRONG_NOTIFY)
    monkeypatch.setenv("APP_API_TOKEN", STRONG_APP_TOKEN)
    with pytest.raises(InsecureSettingsError, match="DAPR_API_TOKEN"):
        CommonSettings()
    monkeypatch.setenv("DAPR_API_TOKEN_REQUIRED", "false")
    s = CommonSettings()
    assert s.dapr_api_token is None and not s.dapr_api_token_required


@pytest.mark.parametrize("environment", ["development", "DEVELOPMENT", "Development"])
def test_development_accepts_defaults(environment: str) -> None:
    s = CommonSettings(environment=environment)
    assert s.secret_key == "test-secret-key-for-development-only"
    assert s.pubsub_notify_api_key == "test-api-key-for-development-only"
    assert s.app_api_token is None
    assert s.dapr_api_token is None


def test_base_url_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_URL_MASTER_DATA", "http://md.internal:9000/api/v1/")
    s = CommonSettings(environment="development")
    assert s.base_url("master-data") == "http://md.internal:9000/api/v1"  # trailing / stripped
    assert s.base_url("MASTER_DATA") == "http://md.internal:9000/api/v1"
    assert s.base_url("terminal") == "http://127.0.0.1:8001/api/v1"
    assert s.base_url("stock") == "http://127.0.0.1:8006/api/v1"


@pytest.mark.parametrize("service", ["unknown", "", "dapr", "master data"])
def test_base_url_unknown_service(service: str) -> None:
    s = CommonSettings(environment="development")
    with pytest.raises(KeyError):
        s.base_url(service)
