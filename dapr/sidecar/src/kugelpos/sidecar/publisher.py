"""POST /v1.0/publish/{pubsubname}/{topic}: wraps the body and appends it to the topic stream."""

import json

from fastapi import APIRouter, Request, Response
from redis.asyncio import Redis
from redis.exceptions import RedisError

from kugelpos.sidecar import cloudevents
from kugelpos.sidecar.api_token import caller_id
from kugelpos.sidecar.components import Component
from kugelpos.sidecar.errors import DaprError
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.messages import StreamMessage
from kugelpos.sidecar.policy import policy_of
from kugelpos.sidecar.runtime import Runtime

router = APIRouter()

# CloudEvent attributes a publisher may set through `metadata.cloudevent.<attr>`.
CLOUDEVENT_OVERRIDES = ("id", "source", "type", "subject")


def request_metadata(request: Request) -> dict[str, str]:
    """Dapr passes per-request metadata as `?metadata.<key>=<value>` query parameters."""
    prefix = "metadata."
    return {k[len(prefix) :]: v for k, v in request.query_params.items() if k.startswith(prefix)}


def _max_len(component: Component) -> int | None:
    value = component.metadata.get("maxLenApprox", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


async def append(redis: Redis, component: Component, topic: str, message: StreamMessage) -> None:
    await redis.xadd(
        topic,
        message.to_fields(),
        maxlen=_max_len(component),
        approximate=True,
    )


@router.post("/v1.0/publish/{pubsubname}/{topic}")
async def publish(pubsubname: str, topic: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    # Apps share this sidecar: the token says who is calling (the CloudEvent `source` too).
    source = caller_id(request, runtime.settings.sidecar_id)
    scopes = policy_of(request).scopes
    component = runtime.components.pubsubs.get(pubsubname)
    if component is None or not scopes.visible(pubsubname, source):
        # A component scoped to other apps is not loaded in this app's daprd at all.
        if not scopes.any_visible("pubsub", source):
            raise DaprError(400, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured")
        raise DaprError(404, "ERR_PUBSUB_NOT_FOUND", f"pubsub {pubsubname} not found")
    if not scopes.may_publish(pubsubname, source, topic):
        log.warning("publish_forbidden", app_id=source, pubsub=pubsubname, topic=topic)
        raise DaprError(
            403, "ERR_PUBSUB_FORBIDDEN", f"topic {topic} is not allowed for app id {source}"
        )
    body = await request.body()
    content_type = request.headers.get("content-type")
    metadata = request_metadata(request)
    raw = metadata.get("rawPayload", "").lower() == "true"
    traceparent = request.headers.get("traceparent")
    tracestate = request.headers.get("tracestate")
    try:
        if raw:
            data = body
        elif cloudevents.is_cloudevent(content_type):
            event = cloudevents.from_cloudevent(
                body=body,
                source=source,
                topic=topic,
                pubsub=pubsubname,
                traceparent=traceparent,
                tracestate=tracestate,
            )
            data = json.dumps(event).encode()
        else:
            overrides = {
                attr: metadata[f"cloudevent.{attr}"]
                for attr in CLOUDEVENT_OVERRIDES
                if f"cloudevent.{attr}" in metadata
            }
            event = cloudevents.envelope(
                body=body,
                content_type=content_type,
                source=source,
                topic=topic,
                pubsub=pubsubname,
                traceparent=traceparent,
                tracestate=tracestate,
                overrides=overrides,
            )
            data = json.dumps(event).encode()
    except cloudevents.CloudEventError as exc:
        raise DaprError(
            400,
            "ERR_PUBSUB_CLOUD_EVENTS_SER",
            f"error when marshalling cloud event envelope for topic {topic} "
            f"pubsub {pubsubname}: {exc}",
        ) from exc
    message = StreamMessage(
        id="",
        data=data,
        raw=raw,
        content_type=(content_type or "application/octet-stream")
        if raw
        else cloudevents.CLOUDEVENTS_CONTENT_TYPE,
    )
    try:
        await append(runtime.redis, component, topic, message)
    except RedisError as exc:
        log.error("publish_failed", pubsub=pubsubname, topic=topic, error=str(exc))
        raise DaprError(
            500,
            "ERR_PUBSUB_PUBLISH_MESSAGE",
            f"error when publish to topic {topic} in pubsub {pubsubname}: {exc}",
        ) from exc
    log.debug("published", pubsub=pubsubname, topic=topic, source=source, raw=raw)
    return Response(status_code=204)
