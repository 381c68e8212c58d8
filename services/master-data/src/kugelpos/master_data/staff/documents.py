"""How a staff member is stored in `master_staff`."""

from __future__ import annotations

from ..documents import MasterDocument


class StaffDocument(MasterDocument):
    id: str
    name: str
    pin_hash: str | None = None  # bcrypt; the PIN itself is never stored
    roles: list[str] = []
    status: str | None = None
