"""uvicorn's server without its tenth-of-a-second tick: an idle sidecar stays idle.

uvicorn wakes ten times a second to look at its exit flag (and refreshes its `Date` header
once a second): for a process that otherwise sleeps until Redis or an app has something, that
tick was a good part of its idle CPU. Here it looks once a second (the header still refreshed
each second) and at once when a signal asks it to stop.
"""

import asyncio
import contextlib
from types import FrameType

import uvicorn

TICK_SECONDS = 1.0


class QuietServer(uvicorn.Server):
    async def main_loop(self) -> None:
        self._stop_now = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # on_tick refreshes the Date header when counter % 10 == 0: every tick here.
            counter = (counter + 10) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_now.wait(), TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop_now.set)
