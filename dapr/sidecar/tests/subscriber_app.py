"""A subscriber app for the conformance tests, run as its own process.

It declares the subscriptions given on the command line and records every delivery as a JSON
line in a file, so the record survives the process being killed. What it answers is chosen by
the event's data: `{"key": ..., "reply": "retry" | {"<app-id>": "retry"}, "times": n}` gives that
reply to the first n deliveries of the key (all of them without `times`), then SUCCESS.
Replies: success, empty, retry, drop, error (500), notfound (404), hang (never answers).
Routes starting with /dead always succeed. /echo/..., /status/<code> and GET /health serve
invocation tests.
"""

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse


def build(
    app_id: str, subscriptions: list[dict[str, Any]], record: Path, app_token: str | None = None
) -> FastAPI:
    app = FastAPI()

    def attempts(route: str, key: str) -> int:
        if not record.exists():
            return 0
        lines = record.read_text().splitlines()
        return sum(1 for r in map(json.loads, lines) if r["route"] == route and r["key"] == key)

    @app.get("/dapr/subscribe")
    async def subscribe(request: Request) -> JSONResponse:
        # A sidecar given a token must send it on discovery too (daprd does): without it,
        # subscribe nothing, so a test sees the difference.
        if app_token is not None and request.headers.get("dapr-api-token") != app_token:
            return JSONResponse([])
        return JSONResponse(subscriptions)

    @app.api_route("/echo/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(path: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "app_id": app_id,
                "method": request.method,
                "path": path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "body": (await request.body()).decode(),
            }
        )

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "app_id": app_id})

    @app.get("/status/{code}")
    async def status(code: int) -> Response:
        return Response(b"status body", status_code=code, headers={"x-custom": "yes"})

    @app.post("/{route:path}")
    async def receive(route: str, request: Request) -> Response:
        route = "/" + route
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        is_event = isinstance(body, dict) and "specversion" in body
        data = body.get("data") if is_event else body
        spec = data if isinstance(data, dict) else {}
        key = str(spec.get("key") or (body.get("id") if is_event else raw.decode()))
        attempt = attempts(route, key) + 1
        entry = {
            "app_id": app_id,
            "route": route,
            "key": key,
            "attempt": attempt,
            "ts": time.monotonic(),
            "content_type": request.headers.get("content-type"),
            "api_token": request.headers.get("dapr-api-token"),
            "body": body,
        }
        with record.open("a") as out:
            out.write(json.dumps(entry) + "\n")
        reply = spec.get("reply", "success")
        if isinstance(reply, dict):
            reply = reply.get(app_id, "success")
        if route.startswith("/dead") or attempt > int(spec.get("times", 10**9)):
            reply = "success"
        match reply:
            case "hang":
                await asyncio.sleep(3600)
                return Response(status_code=200)
            case "empty":
                return Response(status_code=200)
            case "error":
                return Response(b"boom", status_code=500)
            case "notfound":
                return Response(status_code=404)
            case "retry" | "drop":
                return JSONResponse({"status": reply.upper()})
            case _:
                return JSONResponse({"status": "SUCCESS"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--subscriptions", default="[]")
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--app-token", default=None, help="token /dapr/subscribe requires")
    args = parser.parse_args()
    app = build(args.app_id, json.loads(args.subscriptions), args.record, args.app_token)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", timeout_graceful_shutdown=1
    )


if __name__ == "__main__":
    main()
