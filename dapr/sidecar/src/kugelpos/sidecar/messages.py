"""How one published message sits in its topic's Redis stream (one stream per topic, as daprd)."""

from dataclasses import dataclass

# Stream entry fields. `data` holds the CloudEvent JSON, or the body as sent for rawPayload.
DATA = b"data"
RAW = b"rawPayload"
CONTENT_TYPE = b"contentType"


@dataclass(frozen=True, slots=True)
class StreamMessage:
    id: str
    data: bytes
    raw: bool
    content_type: str

    @classmethod
    def from_fields(cls, entry_id: bytes | str, fields: dict[bytes, bytes]) -> "StreamMessage":
        ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return cls(
            id=ident,
            data=fields.get(DATA, b""),
            raw=fields.get(RAW, b"") == b"true",
            content_type=fields.get(CONTENT_TYPE, b"").decode() or "application/octet-stream",
        )

    def to_fields(self) -> dict[bytes, bytes]:
        return {
            DATA: self.data,
            RAW: b"true" if self.raw else b"false",
            CONTENT_TYPE: self.content_type.encode(),
        }
