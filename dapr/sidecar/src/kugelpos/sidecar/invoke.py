"""/v1.0/invoke/{app-id}/method/{path}: service invocation, proxied to the app's base URL."""

import httpx
from fastapi import APIRouter, Request, Response

from kugelpos.sidecar.errors import DaprError
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.runtime import Runtime

router = APIRouter()

# Hop-by-hop headers (RFC 9110 §7.6.1) and those httpx recomputes are not forwarded.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        # The caller's token for its own sidecar is not the app's token: never passed on.
        "dapr-api-token",
    }
)
# httpx hands back the decoded body, so the encoding headers of the original no longer apply.
_NOT_RETURNED = _NOT_FORWARDED | {"content-encoding"}

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _invoke_error(app_id: str, reason: str) -> DaprError:
    return DaprError(500, "ERR_DIRECT_INVOKE", f"failed to invoke, id: {app_id}, err: {reason}")


@router.api_route("/v1.0/invoke/{app_id}/method/{path:path}", methods=METHODS)
async def invoke(app_id: str, path: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    app = runtime.settings.app(app_id)
    if app is None:
        raise _invoke_error(app_id, f"couldn't find service: {app_id}")
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
    headers.append(("dapr-callee-app-id", app_id))
    url = f"{app.base_url.rstrip('/')}/{path}"
    try:
        upstream = await runtime.http.request(
            request.method,
            url,
            params=list(request.query_params.multi_items()),
            headers=headers,
            content=await request.body(),
            timeout=runtime.settings.invoke_timeout,
        )
    except httpx.HTTPError as exc:
        log.warning("invoke_failed", app_id=app_id, path=path, error=str(exc))
        raise _invoke_error(app_id, f"{type(exc).__name__}: {exc}") from exc
    response = Response(content=upstream.content, status_code=upstream.status_code)
    for key, value in upstream.headers.multi_items():
        if key.lower() not in _NOT_RETURNED:
            response.headers.append(key, value)
    return response
