"""What the terminal publishes and subscribes.

Publishes (through the outbox, pub/sub component `pubsub`):
- `cashlog_report`: every cash movement, including the opening float (`event_type` cash_in_out)
- `opencloselog_report`: every open and close (`event_type` open / close)

Subscribes:
- `tranlog_status`: consumers' acknowledgements, which update each event's delivery status
"""

from __future__ import annotations

from kugelpos.common.events.publisher import OutboxEvents


class TerminalEvents(OutboxEvents):
    """The terminal publishes only; acknowledgements come in through the base class."""
