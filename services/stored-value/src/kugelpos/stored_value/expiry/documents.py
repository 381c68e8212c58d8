"""A tenant's card settings (`card_settings`): after how many days without use a card of each
kind expires, its balance written off as breakage (None: never)."""

from __future__ import annotations

from kugelpos.common.db.documents import Document
from kugelpos.common.jobs import JobRun


class CardSettings(Document):
    tenant_id: str
    gift_expiry_days: int | None = None
    credit_expiry_days: int | None = None


class ExpiryRun(JobRun):
    """One tenant's expiry of one day (commons.jobs: claimed by one replica with a lease)."""

    expired_cards: int = 0
    breakage: int = 0
