"""Ranges of local days for the reports that sum by day (stock's movements, stored value's
liability): `from`/`to` as `YYYY-MM-DD`, at most `max_days`, in the service's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import InvalidInputError

MAX_DAYS = 92


def parse_day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"Invalid {name} {value!r}: expected YYYY-MM-DD") from exc


def day_range(start: str, end: str, max_days: int = MAX_DAYS) -> tuple[date, date]:
    """The first and last day asked for (422 when reversed, malformed or too long)."""
    first, last = parse_day(start, "from"), parse_day(end, "to")
    if first > last:
        raise InvalidInputError(f"from {first} is after to {last}")
    if (last - first).days + 1 > max_days:
        raise InvalidInputError(f"at most {max_days} days at a time, from {first} to {last}")
    return first, last


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the local `day` begins."""
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def local_day(stamp: datetime, zone: ZoneInfo) -> date:
    """The local day of a stored instant (a client without tz_aware reads UTC as naive)."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(zone).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
