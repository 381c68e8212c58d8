"""/v1.0/invoke/{app-id}/method/{path}: service invocation, proxied to the app's base URL.

The method is normalised first (dot segments and repeated slashes resolved; encoded slashes,
backslashes and dots refused), so the access-control policies judge the path the app will get.
"""

import posixpath
import re

import httpx
from fastapi import APIRouter, Request, Response

from kugelpos.sidecar.api_token import caller_id, verified_caller
from kugelpos.sidecar.errors import DaprError
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.policy import policy_of
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
        # Set by the sidecar (who is calling); a caller may not claim another app's id.
        "dapr-caller-app-id",
        "dapr-callee-app-id",
    }
)
# httpx hands back the decoded body, so the encoding headers of the original no longer apply.
_NOT_RETURNED = _NOT_FORWARDED | {"content-encoding"}

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# Sent to another replica after the first dropped the connection unanswered (RFC 9110 §9.2.1).
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


# After the router decoded the path once: what an app would decode again into / \\ or .
_ENCODED = re.compile(r"%(?:2f|5c|2e)", re.IGNORECASE)


def _invoke_error(app_id: str, reason: str, status: int = 500) -> DaprError:
    return DaprError(status, "ERR_DIRECT_INVOKE", f"failed to invoke, id: {app_id}, err: {reason}")


def normalize_method(path: str) -> str | None:
    """The method as the app will route it, or None when it cannot be judged safely."""
    if "\\" in path or _ENCODED.search(path):
        return None
    cleaned = "/" + posixpath.normpath("/" + path).lstrip("/")
    # normpath drops a trailing slash, which an app may route differently.
    return cleaned + "/" if path.endswith("/") and cleaned != "/" else cleaned


def _denied(app_id: str, caller: str | None, method: str, verb: str, namespace: str) -> DaprError:
    who = f"spiffe://public/ns/{namespace}/{caller}" if caller else "unknown caller"
    return _invoke_error(
        app_id,
        "rpc error: code = PermissionDenied desc = access control policy has denied access "
        f"to id: {who} operation: {method} verb: {verb}",
        status=403,
    )


@router.api_route("/v1.0/invoke/{app_id}/method/{path:path}", methods=METHODS)
async def invoke(app_id: str, path: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    # Every live replica of the app, whichever sidecar serves it (name resolution).
    targets = await runtime.resolver.resolve(app_id)
    if not targets:
        raise _invoke_error(app_id, f"couldn't find service: {app_id}")
    policy = policy_of(request)
    method = normalize_method(path)
    # An identity the sidecar did not verify (no API tokens) gets the global default action.
    caller = verified_caller(request)
    if method is None:
        raise _invoke_error(app_id, f"error in method normalization: {path!r}", status=403)
    acl = policy.access_control
    if acl is not None and not acl.allows(
        caller, method, request.method, namespace=policy.namespace
    ):
        log.warning("invoke_denied", app_id=app_id, caller=caller, method=method)
        raise _denied(app_id, caller, method, request.method, policy.namespace)
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED]
    headers.append(("dapr-callee-app-id", app_id))
    headers.append(("dapr-caller-app-id", caller_id(request, runtime.settings.sidecar_id)))
    body = await request.body()
    for number, target in enumerate(targets, start=1):
        try:
            upstream = await runtime.http.request(
                request.method,
                f"{target.rstrip('/')}{method}",
                params=list(request.query_params.multi_items()),
                headers=headers,
                content=body,
                timeout=runtime.settings.invoke_timeout,
            )
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # Nothing reached that replica (it is down), or it went away without an answer:
            # the next one takes the call, unless the call changes something and may have
            # been applied there (only a safe method is sent again).
            refused = isinstance(exc, httpx.ConnectError)
            if refused:
                runtime.resolver.refused(target)
            log.warning("invoke_refused", app_id=app_id, target=target, error=str(exc))
            if number < len(targets) and (refused or request.method in _SAFE):
                continue
            raise _invoke_error(app_id, f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            # The call may have reached the app: not sent again (it may not be idempotent).
            log.warning("invoke_failed", app_id=app_id, path=path, error=str(exc))
            raise _invoke_error(app_id, f"{type(exc).__name__}: {exc}") from exc
        runtime.resolver.answered(target)
        break
    response = Response(content=upstream.content, status_code=upstream.status_code)
    for key, value in upstream.headers.multi_items():
        if key.lower() not in _NOT_RETURNED:
            response.headers.append(key, value)
    return response
