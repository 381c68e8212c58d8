"""Stored-value service settings (environment > `.env` > defaults)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from kugelpos.common.settings import CommonSettings


class StoredValueSettings(CommonSettings):
    service_name: str = "stored-value"
    db_name_prefix: str = "db_stored_value"

    # Cards issued by one request at most (a print run of gift cards).
    issue_batch_max: int = Field(default=1_000, ge=1, le=10_000)
    # The most a card may hold, in the currency's minor units (a till's fat finger on a load,
    # and the amount a stolen number is worth).
    max_balance: int = Field(default=10_000_000, ge=1)
    # bcrypt cost of a card's PIN: paid on every lookup and hold of a card with a PIN, so
    # lower than a password's; the throttle below is what stops guessing.
    pin_hash_rounds: int = Field(default=8, ge=4, le=15)

    # A hold not captured or released within this time is released by the service itself (a
    # cart abandoned, a till that died between payment and bill).
    hold_ttl_seconds: int = Field(default=1_800, ge=1)
    # How often each replica looks for holds past their time (each release is a conditional
    # update: two replicas never release one hold twice).
    hold_expiry_poll_seconds: float = Field(default=30.0, gt=0)
    hold_expiry_enabled: bool = True

    # Expiry (per tenant: `PUT …/card-settings`): each replica looks every this many seconds
    # whether a tenant's daily run is due (at `expiry_run_hour`, the app time zone); the run
    # is claimed by one replica with a lease another takes over if it dies.
    expiry_scheduler_enabled: bool = True
    expiry_poll_seconds: float = Field(default=300.0, gt=0)
    expiry_run_hour: int = Field(default=3, ge=0, le=23)
    expiry_lease_seconds: int = Field(default=600, ge=1)

    # Lookups of a card (balance, hold) that find no card or a wrong PIN, per caller (a
    # terminal, a user): after `free` failures each costs a growing wait, so numbers cannot
    # be enumerated from a till. Records in the Dapr state store (every replica sees them).
    lookup_free_attempts: int = Field(default=5, ge=1)
    lookup_forget_after_seconds: float = Field(default=900.0, gt=0)
    lookup_base_delay_seconds: float = Field(default=2.0, gt=0)
    lookup_max_delay_seconds: float = Field(default=300.0, gt=0)


@cache
def get_settings() -> StoredValueSettings:
    return StoredValueSettings()
