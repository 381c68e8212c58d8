"""A tenant's card settings (`card_settings`): after how many days without use a card of each
kind expires, its balance written off as breakage (None: never)."""

from __future__ import annotations

from datetime import datetime

from kugelpos.common.db.documents import Document


class CardSettings(Document):
    tenant_id: str
    gift_expiry_days: int | None = None
    credit_expiry_days: int | None = None


class ExpiryRun(Document):
    """One tenant's expiry of one day (commons.jobs: claimed by one replica with a lease)."""

    job_key: str
    tenant_id: str
    due_at: datetime
    owner: str
    lease_until: datetime
    status: str = "running"
    expired_cards: int = 0
    breakage: int = 0
