"""Clock helpers: UTC for storage, the application zone for business dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kugelpos.common.clock import app_now, business_date, utcnow


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_app_now_uses_the_zone() -> None:
    now = app_now("Asia/Tokyo")
    assert now.utcoffset() == timedelta(hours=9)


def test_business_date_crosses_midnight_in_the_app_zone() -> None:
    # 2025-01-05 16:30 UTC is already 2025-01-06 01:30 in Tokyo.
    moment = datetime(2025, 1, 5, 16, 30, tzinfo=UTC)
    assert business_date("Asia/Tokyo", moment) == "20250106"
    assert business_date("UTC", moment) == "20250105"
    assert business_date("America/New_York", moment) == "20250105"


def test_business_date_defaults_to_now() -> None:
    today = business_date("Asia/Tokyo")
    assert len(today) == 8 and today.isdigit()
    assert today == app_now("Asia/Tokyo").strftime("%Y%m%d")
