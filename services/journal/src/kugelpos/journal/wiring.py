"""The journal service's process-wide objects, built once with the app."""

from __future__ import annotations

from kugelpos.common.wiring import ConsumerWiring

from .config import JournalSettings
from .events import JournalEvents


class JournalWiring(ConsumerWiring[JournalSettings]):
    def __init__(self, settings: JournalSettings) -> None:
        super().__init__(settings)
        self.consumer = JournalEvents().consumer
