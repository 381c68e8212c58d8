"""A consuming service whose event handler fails on purpose: a poison event, for the tests of
the dead-letter path (issue 22). Test-only: never part of a deployment.

    ServiceSpec(..., asgi="kugelpos.testkit.poison:stock")   # or journal, report

serves the service unchanged, except that every `EventConsumer` handler raises `RuntimeError`
(a bug, not an outage) for a log named in the file `KUGELPOS_POISON_FILE` points to, one rule a
line: `item:<item code>` (a log with a line of that item) or `event:<event id>`. The file is
read on each event, so a test "deploys the fix" by emptying it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kugelpos.common.events.consumer import Delivery, EventConsumer, Handler

POISON_FILE = "KUGELPOS_POISON_FILE"
SERVICES = {
    "journal": "kugelpos.journal.main",
    "report": "kugelpos.report.main",
    "stock": "kugelpos.stock.main",
}


def rules() -> set[str]:
    path = os.environ.get(POISON_FILE)
    if not path or not Path(path).exists():
        return set()
    return {line.strip() for line in Path(path).read_text().splitlines() if line.strip()}


def poisoned(delivery: Delivery[Any]) -> bool:
    found = rules()
    if not found:
        return False
    if f"event:{delivery.event_id}" in found:
        return True
    lines = getattr(delivery.log, "line_items", None) or []
    return any(isinstance(x, dict) and f"item:{x.get('item_code')}" in found for x in lines)


_consume = EventConsumer.consume


def _poisoning_consume(
    self: EventConsumer, topic: str, model: type, *, route: str | None = None
) -> Callable[[Handler[Any]], Handler[Any]]:
    register = _consume(self, topic, model, route=route)

    def wrap(handler: Handler[Any]) -> Handler[Any]:
        async def handle(delivery: Delivery[Any]) -> None:
            if poisoned(delivery):
                raise RuntimeError(f"poison event {delivery.event_id} (test fault)")
            await handler(delivery)

        register(handle)
        return handler

    return wrap


def __getattr__(name: str) -> Any:
    """`poison:stock` is the stock service's app, built with the poisoning consumer. Only
    then is `EventConsumer.consume` replaced: importing this module (for `POISON_FILE`)
    changes nothing."""
    module = SERVICES.get(name)
    if module is None:
        raise AttributeError(name)
    EventConsumer.consume = _poisoning_consume  # type: ignore[method-assign]
    return importlib.import_module(module).app
