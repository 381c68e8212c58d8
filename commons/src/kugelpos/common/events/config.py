"""Settings of the outbox relay, for services that publish events through it."""

from __future__ import annotations

from ..settings import CommonSettings


class OutboxSettings(CommonSettings):
    pubsub_name: str = "pubsub"
    # The relay sleeps until a commit wakes it or until the earliest retry, lease expiry or
    # recheck it knows of; at most this long (the safety net for work nobody told it about: a
    # dead replica's leases, another replica's rechecks). An idle round is a few indexed
    # reads; once a minute keeps an idle stack idle.
    outbox_poll_interval_seconds: float = 60.0
    # A claimed event belongs to one relay for this long; then another may take it over.
    outbox_lease_seconds: float = 30.0
    # A committed event is written leased to its own process's relay, which publishes it at
    # once; if that process dies first, another relay takes it over after this long.
    outbox_fresh_lease_seconds: float = 5.0
    # Events claimed per round.
    outbox_batch_size: int = 50
    # Backoff after a failed publish: base * 2^(attempts-1), capped.
    outbox_retry_base_seconds: float = 0.5
    outbox_retry_max_seconds: float = 30.0
    # An event its consumers have not all acknowledged within this time is published again;
    # then after twice as long each time, at most the max.
    outbox_ack_timeout_seconds: float = 300.0
    outbox_ack_timeout_max_seconds: float = 3600.0
    # Pause between two republished events (a backlog never crowds out the till's work).
    outbox_republish_pause_seconds: float = 0.05
    # After this long without full acknowledgement an event is marked failed (and left alone).
    outbox_give_up_seconds: float = 86_400.0
    # How often the relay looks for events to give up.
    outbox_give_up_check_seconds: float = 60.0
    # `/metrics` reads the outbox backlog from the database at most this often (a few
    # scrapers cost one set of indexed reads per interval).
    metrics_outbox_interval_seconds: float = 5.0

    @staticmethod
    def names(raw: str) -> list[str]:
        """`"report, journal"` → `["report", "journal"]` (comma-separated settings)."""
        return [name.strip() for name in raw.split(",") if name.strip()]

    @property
    def event_consumers(self) -> dict[str, list[str]]:
        """Topic → services expected to acknowledge it (a topic with none is done once
        published). Services that publish override this."""
        return {}
