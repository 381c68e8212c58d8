"""The background loop every job runs on (`Poller`) and a daily job's timing (`DailyJob`): a
failed poll is logged and the loop goes on; `/health` fails when an enabled loop is not running;
a tenant's run of the day is due at its hour in the app's time zone and keyed by that day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from kugelpos.common.jobs import DailyJob, Poller


class Flaky(Poller):
    check = "flaky"

    def __init__(self, *, enabled: bool = True) -> None:
        super().__init__(poll_seconds=0.01, enabled=enabled)
        self.polls = 0
        self.third = asyncio.Event()  # set once the loop has polled three times

    async def poll(self, now: datetime | None = None) -> int:
        self.polls += 1
        self.last_poll = now or datetime.now(UTC)
        if self.polls >= 3:
            self.third.set()
        if self.polls == 1:
            raise RuntimeError("the first poll fails")
        return 1

    def details(self) -> dict[str, Any]:
        return {"polls": self.polls}


async def test_a_failed_poll_is_recorded_and_the_loop_goes_on() -> None:
    loop = Flaky()
    (check,) = loop.health_checks().values()
    with pytest.raises(RuntimeError, match="flaky not running"):
        await check()  # enabled, not started
    await loop.start()
    try:
        await asyncio.wait_for(loop.third.wait(), 5)
        assert loop.last_error is None  # cleared by the polls after the failed one
        details = await check()
        assert details["enabled"] is True and details["polls"] >= 3
        assert details["last_poll"] is not None
    finally:
        await loop.stop()
    with pytest.raises(RuntimeError):
        await check()  # stopped: no longer running


async def test_a_disabled_loop_never_starts_and_is_healthy() -> None:
    loop = Flaky(enabled=False)
    await loop.start()
    await asyncio.sleep(0.05)
    assert loop.polls == 0
    (check,) = loop.health_checks().values()
    assert (await check())["enabled"] is False
    await loop.stop()


class Nightly(DailyJob):
    name = "nightly"

    async def work(self, tenant_id: str, now: datetime) -> dict[str, Any]:
        return {}


def test_a_daily_run_is_due_at_its_hour_in_the_app_time_zone() -> None:
    job = Nightly(
        None,  # type: ignore[arg-type]  # timing only: no database is touched
        service="test",
        timezone="Asia/Tokyo",
        run_hour=3,
        poll_seconds=60,
        lease_seconds=60,
        enabled=False,
    )
    # 2026-12-06 20:00 UTC is 2026-12-07 05:00 in Tokyo: that day's run was due at 03:00 JST.
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert job.due(now) == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert job.job_key("T1", job.due(now)) == "nightly_T1:2026-12-07"
    assert job.check == "nightly_scheduler" and job.owner.startswith("test-")
