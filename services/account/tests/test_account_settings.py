"""Production defaults of the account service's settings (one class, no process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kugelpos.account.config import AccountSettings

STRONG = {
    "secret_key": "s" * 40,
    "pubsub_notify_api_key": "n" * 40,
    "app_api_token": "a" * 40,
    "dapr_api_token": "d" * 40,
}


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the caller's environment nor a `.env` decides these tests."""
    monkeypatch.chdir(tmp_path)
    for name in ("ENVIRONMENT", "REGISTRATION_OPEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_registration_is_closed_outside_development_unless_set(environment: str) -> None:
    assert AccountSettings(environment=environment, **STRONG).registration_open is False


def test_registration_is_open_in_development() -> None:
    assert AccountSettings(environment="development").registration_open is True


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
def test_an_explicit_setting_wins_everywhere(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("REGISTRATION_OPEN", value)
    assert AccountSettings(environment="production", **STRONG).registration_open is expected
    assert AccountSettings(environment="development").registration_open is expected
