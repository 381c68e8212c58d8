"""Schedule arithmetic, delegated to croniter: a schedule as a cron expression evaluated in
the app time zone (DST and month lengths are croniter's business, not ours)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter


def cron_expression(
    interval: str, hour: int, minute: int, day_of_week: int | None, day_of_month: int | None
) -> str:
    if interval == "daily":
        return f"{minute} {hour} * * *"
    if interval == "weekly":
        assert day_of_week is not None
        return f"{minute} {hour} * * {(day_of_week + 1) % 7}"  # ours 0 = Monday, cron 0 = Sunday
    if interval == "monthly":
        assert day_of_month is not None
        return f"{minute} {hour} {day_of_month} * *"  # months without that day are skipped
    raise ValueError(f"unknown interval {interval!r}")


def next_run(expression: str, after: datetime, timezone: str) -> datetime:
    local = after.astimezone(ZoneInfo(timezone))
    return croniter(expression, local).get_next(datetime)


def latest_due(expression: str, now: datetime, timezone: str) -> datetime:
    """The most recent scheduled instant at or before `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    if croniter.match(expression, local.replace(second=0, microsecond=0)):
        return local.replace(second=0, microsecond=0)
    return croniter(expression, local).get_prev(datetime)
