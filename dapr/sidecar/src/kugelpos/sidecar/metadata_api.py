"""/v1.0/healthz and /v1.0/metadata, shaped like daprd's."""

from typing import Any

from fastapi import APIRouter, Request, Response

from kugelpos.sidecar import __version__
from kugelpos.sidecar.runtime import Runtime

router = APIRouter()

RUNTIME_VERSION = f"{__version__}-kugelpos-sidecar"
CAPABILITIES = {
    "state.redis": ["ETAG", "TRANSACTIONAL", "TTL"],
    "pubsub.redis": [],
}


@router.get("/v1.0/healthz")
async def healthz() -> Response:
    return Response(status_code=204)


@router.get("/v1.0/healthz/outbound")
async def healthz_outbound() -> Response:
    return Response(status_code=204)


@router.get("/v1.0/metadata")
async def metadata(request: Request) -> dict[str, Any]:
    runtime: Runtime = request.app.state.runtime
    return {
        "id": runtime.settings.sidecar_id,
        "runtimeVersion": RUNTIME_VERSION,
        "enabledFeatures": [],
        "actors": [],
        "components": [
            {
                "name": c.name,
                "type": c.type,
                "version": c.version,
                "capabilities": CAPABILITIES.get(c.type, []),
            }
            for c in runtime.components.all()
        ],
        "httpEndpoints": [],
        "subscriptions": [s.describe() for s in runtime.registry.subscriptions()],
        # Not in daprd: this sidecar serves several apps, so it lists them.
        "apps": [
            {
                "id": app.app_id,
                "url": app.base_url,
                "reachable": runtime.registry.reachable.get(app.app_id, False),
            }
            for app in runtime.settings.apps
        ],
        # Not in daprd either: the group each subscription reads with (tests, debugging).
        "consumerGroups": runtime.registry.consumer_groups(),
        "extended": {"daprRuntimeVersion": RUNTIME_VERSION},
    }
