"""CloudEvents 1.0 envelopes, built the way daprd builds them around published data."""

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
DEFAULT_EVENT_TYPE = "com.dapr.event.sent"
# daprd's default when the publisher sends no Content-Type.
DEFAULT_DATA_CONTENT_TYPE = "text/plain"


class CloudEventError(ValueError):
    """The body cannot be turned into a CloudEvent (bad JSON for a JSON content type, etc.)."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    media = media_type(content_type)
    return media == "application/json" or media.endswith("+json")


def is_cloudevent(content_type: str | None) -> bool:
    return media_type(content_type) == CLOUDEVENTS_CONTENT_TYPE


def _is_text(content_type: str) -> bool:
    media = media_type(content_type)
    return media.startswith("text/") or media in ("application/xml", "application/x-yaml")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _trace_fields(traceparent: str | None, tracestate: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if traceparent:
        # daprd sends both the legacy `traceid` and the W3C `traceparent` extension.
        fields["traceid"] = traceparent
        fields["traceparent"] = traceparent
    if tracestate:
        fields["tracestate"] = tracestate
    return fields


def envelope(
    *,
    body: bytes,
    content_type: str | None,
    source: str,
    topic: str,
    pubsub: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
    overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Wraps a published body; JSON is embedded as JSON, text as a string, bytes as base64."""
    data_content_type = content_type or DEFAULT_DATA_CONTENT_TYPE
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "source": source,
        "type": DEFAULT_EVENT_TYPE,
        "specversion": "1.0",
        "datacontenttype": data_content_type,
        "topic": topic,
        "pubsubname": pubsub,
        "time": _now(),
        **_trace_fields(traceparent, tracestate),
    }
    if is_json(data_content_type):
        try:
            event["data"] = json.loads(body) if body else None
        except ValueError as exc:
            raise CloudEventError(f"body is not valid JSON: {exc}") from exc
    elif _is_text(data_content_type):
        try:
            event["data"] = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CloudEventError(f"body is not valid UTF-8 text: {exc}") from exc
    else:
        event["data_base64"] = base64.b64encode(body).decode("ascii")
    event.update(overrides or {})
    return event


def from_cloudevent(
    *,
    body: bytes,
    source: str,
    topic: str,
    pubsub: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> dict[str, Any]:
    """Takes an event the publisher already built, filling what Dapr adds (topic, pubsubname)."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise CloudEventError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise CloudEventError("a CloudEvent must be a JSON object")
    event.setdefault("id", str(uuid.uuid4()))
    event.setdefault("source", source)
    event.setdefault("type", DEFAULT_EVENT_TYPE)
    event.setdefault("specversion", "1.0")
    event.setdefault("datacontenttype", "application/json")
    event.setdefault("time", _now())
    event["topic"] = topic
    event["pubsubname"] = pubsub
    for key, value in _trace_fields(traceparent, tracestate).items():
        event.setdefault(key, value)
    return event


def wrap_raw(payload: bytes, *, topic: str, pubsub: str) -> dict[str, Any]:
    """A raw (rawPayload) message for a subscriber that expects CloudEvents, as daprd does it."""
    try:
        data = json.loads(payload)
    except ValueError:
        return envelope(
            body=payload,
            content_type="application/octet-stream",
            source="",
            topic=topic,
            pubsub=pubsub,
        )
    event = envelope(
        body=b"", content_type="application/json", source="", topic=topic, pubsub=pubsub
    )
    event["data"] = data
    return event
