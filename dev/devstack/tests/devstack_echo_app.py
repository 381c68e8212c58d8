"""A throwaway ASGI app the launcher tests run as a "service" (never in the registry).

GET /health answers like a real service; GET /env shows the settings the launcher passed.
ECHO_CRASH makes the import fail, ECHO_UNHEALTHY makes /health report unhealthy.
"""

import json
import os

if os.environ.get("ECHO_CRASH"):
    raise RuntimeError("echo app told to crash at import")

SHOWN = (
    "ENVIRONMENT",
    "SECRET_KEY",
    "PUBSUB_NOTIFY_API_KEY",
    "APP_API_TOKEN",
    "DAPR_API_TOKEN",
    "MONGODB_URI",
    "DB_NAME_PREFIX",
    "REDIS_URL",
    "DAPR_HTTP_ENDPOINT",
    "SERVICE_NAME",
    "LOG_LEVEL",
    "TOKEN_EXPIRE_MINUTES",
)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/health":
        status = "unhealthy" if os.environ.get("ECHO_UNHEALTHY") else "healthy"
        body = {"status": status}
    elif scope["path"] == "/env":
        body = {key: os.environ.get(key) for key in SHOWN}
        body |= {key: value for key, value in os.environ.items() if key.startswith("BASE_URL_")}
    else:
        body = {"path": scope["path"]}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})
