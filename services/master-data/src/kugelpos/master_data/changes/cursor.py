"""The feed's cursor: opaque to the till, base64url of a small JSON.

A delta cursor holds the last seq the till has seen (`{"s": 42}`); a snapshot page's cursor
holds the high-water mark taken before the first page and where paging stands (`{"m": 42,
"k": 3, "a": "4901"}`: kind index, last key). Both name the tenant and store they were issued
for, so a cursor of another store is refused rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from ..errors import SyncCursorError
from .feed import FEED_KINDS

VERSION = 1
MAX_SEQ = 2**63 - 1
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Cursor:
    seq: int  # delta: the last seq seen; snapshot: the mark the last page will hand over
    snapshot: bool = False
    kind_index: int = 0
    after: str | None = None

    def encode(self, tenant_id: str, store_code: str) -> str:
        body: dict = {"v": VERSION, "t": tenant_id, "st": store_code}
        if self.snapshot:
            body.update(m=self.seq, k=self.kind_index, a=self.after)
        else:
            body["s"] = self.seq
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise ValueError("not a sequence number")
    return value


def decode(text: str, tenant_id: str, store_code: str) -> Cursor:
    """The cursor, or a 400 `405001` for anything this service did not issue for this store."""
    try:
        if len(text) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw.decode())
        if not isinstance(body, dict) or body.get("v") != VERSION:
            raise ValueError("unknown version")
        if body.get("t") != tenant_id or body.get("st") != store_code:
            raise ValueError("another tenant's or store's cursor")
        if "s" in body:
            return Cursor(_int(body["s"]))
        kind_index = _int(body["k"])
        after = body.get("a")
        if kind_index >= len(FEED_KINDS) or not (after is None or isinstance(after, str)):
            raise ValueError("bad snapshot position")
        return Cursor(_int(body["m"]), snapshot=True, kind_index=kind_index, after=after)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise SyncCursorError(
            "Malformed sync cursor: pass back the cursor of the previous answer unchanged, "
            "or omit since for a full snapshot"
        ) from exc
