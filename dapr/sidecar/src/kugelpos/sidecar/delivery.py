"""Sends one message to a subscribing app and reads its verdict, following Dapr's rules."""

import json
from enum import StrEnum
from typing import Any

import httpx

from kugelpos.sidecar import cloudevents
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.messages import StreamMessage
from kugelpos.sidecar.settings import AppTarget
from kugelpos.sidecar.subscriptions import Subscription


class Outcome(StrEnum):
    SUCCESS = "success"  # acknowledged
    RETRY = "retry"  # left pending, redelivered with backoff
    DROP = "drop"  # acknowledged, sent to the dead-letter topic if there is one
    SKIP = "skip"  # no route for it: acknowledged, never sent (not to the dead-letter topic)


def _event_of(message: StreamMessage, sub: Subscription) -> dict[str, Any]:
    if message.raw:
        return cloudevents.wrap_raw(message.data, topic=sub.topic, pubsub=sub.pubsubname)
    try:
        event = json.loads(message.data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return cloudevents.wrap_raw(message.data, topic=sub.topic, pubsub=sub.pubsubname)
    return event


def outcome_of(response: httpx.Response) -> Outcome:
    """2xx reads the optional `{"status"}` body; 404 drops; any other status retries."""
    if response.status_code == 404:
        return Outcome.DROP
    if not 200 <= response.status_code < 300:
        return Outcome.RETRY
    try:
        body = response.json() if response.content.strip() else {}
    except ValueError:
        # daprd treats a 2xx whose body is not JSON as a success as well.
        return Outcome.SUCCESS
    status = str(body.get("status", "") if isinstance(body, dict) else "").upper()
    if status in ("", "SUCCESS"):
        return Outcome.SUCCESS
    if status == "DROP":
        return Outcome.DROP
    # RETRY, and any status Dapr does not know, are retried.
    return Outcome.RETRY


async def deliver(
    http: httpx.AsyncClient,
    app: AppTarget,
    sub: Subscription,
    message: StreamMessage,
    processing_timeout: float,
) -> Outcome:
    event = _event_of(message, sub)
    route = sub.route_for(event)
    if not route:
        # No rule matched and there is no default route: daprd acknowledges such a message
        # and sends it nowhere (it was not meant for this app; not a dead letter).
        log.debug("delivery_no_route", app_id=app.app_id, topic=sub.topic, id=message.id)
        return Outcome.SKIP
    if sub.raw_payload:
        body = message.data
        content_type = message.content_type
    else:
        body = json.dumps(event).encode()
        content_type = cloudevents.CLOUDEVENTS_CONTENT_TYPE
    headers = {"Content-Type": content_type, "pubsubname": sub.pubsubname}
    if isinstance(event.get("traceparent"), str):
        headers["traceparent"] = event["traceparent"]
    url = app.base_url.rstrip("/") + route
    try:
        response = await http.post(url, content=body, headers=headers, timeout=processing_timeout)
    except httpx.HTTPError as exc:
        log.warning(
            "delivery_failed",
            app_id=app.app_id,
            topic=sub.topic,
            id=message.id,
            error=f"{type(exc).__name__}: {exc}",
        )
        return Outcome.RETRY
    outcome = outcome_of(response)
    log.info(
        "delivered",
        app_id=app.app_id,
        topic=sub.topic,
        route=route,
        id=message.id,
        status=response.status_code,
        outcome=outcome.value,
    )
    return outcome
