"""Time in one place: stored timestamps are UTC, business dates follow the store's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def app_now(timezone: str) -> datetime:
    return datetime.now(ZoneInfo(timezone))


def business_date(timezone: str, at: datetime | None = None) -> str:
    """`YYYYMMDD` of `at` (default now) in the application zone."""
    moment = at.astimezone(ZoneInfo(timezone)) if at else app_now(timezone)
    return moment.strftime("%Y%m%d")


def to_millis(moment: datetime) -> datetime:
    """The instant as MongoDB stores it (milliseconds): an answer built from it is what a
    later read gives back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
