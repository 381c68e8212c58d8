"""Command line: `python -m kugelpos.sidecar --port 3500 --app account=http://127.0.0.1:8000`."""

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from kugelpos.sidecar.app import create_app
from kugelpos.sidecar.logs import configure_logging
from kugelpos.sidecar.serving import QuietServer
from kugelpos.sidecar.settings import AppTarget, Settings


def _app(value: str) -> AppTarget:
    app_id, sep, url = value.partition("=")
    if not sep or not app_id or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected APP_ID=http://host:port, got {value!r}")
    return AppTarget(app_id=app_id.strip(), base_url=url.strip().rstrip("/"))


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="python -m kugelpos.sidecar",
        description="Local Dapr-compatible sidecar serving many apps on one port.",
    )
    p.add_argument("--host", default=env("SIDECAR_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env("SIDECAR_PORT", "3500")))
    p.add_argument("--redis-url", default=env("SIDECAR_REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument(
        "--components-path",
        type=Path,
        default=Path(env("SIDECAR_COMPONENTS_PATH", "dapr/components")),
    )
    p.add_argument(
        "--app",
        dest="apps",
        action="append",
        type=_app,
        default=[],
        metavar="APP_ID=URL",
        help="an app served by this sidecar (repeatable)",
    )
    p.add_argument("--sidecar-id", default="kugelpos-sidecar", help="id in /v1.0/metadata")
    p.add_argument(
        "--redeliver-interval",
        type=float,
        default=1.0,
        help="seconds before the first redelivery; doubles per attempt",
    )
    p.add_argument("--max-backoff", type=float, default=30.0, help="cap of the redelivery backoff")
    p.add_argument(
        "--processing-timeout",
        type=float,
        default=60.0,
        help="seconds an app may take to answer one delivery",
    )
    p.add_argument(
        "--subscribe-poll-interval",
        type=float,
        default=5.0,
        help="seconds between polls of each app's /dapr/subscribe",
    )
    p.add_argument("--invoke-timeout", type=float, default=60.0)
    p.add_argument(
        "--concurrency", type=int, default=10, help="deliveries in flight per topic and app"
    )
    p.add_argument(
        "--stale-group-after",
        type=float,
        default=600.0,
        help="seconds of idleness after which a dead sidecar's per-instance group is destroyed",
    )
    p.add_argument("--log-level", default=env("SIDECAR_LOG_LEVEL", "info"))
    # As daprd: the token comes from the APP_API_TOKEN environment variable (not argv, where
    # any local user could read it).
    return p


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    args = _parser().parse_args(argv)
    ids = [a.app_id for a in args.apps]
    if len(ids) != len(set(ids)):
        _parser().error("each --app id may be given once")
    return Settings(
        host=args.host,
        port=args.port,
        redis_url=args.redis_url,
        components_path=args.components_path,
        apps=tuple(args.apps),
        sidecar_id=args.sidecar_id,
        redeliver_interval=args.redeliver_interval,
        max_backoff=max(args.max_backoff, args.redeliver_interval),
        processing_timeout=args.processing_timeout,
        subscribe_poll_interval=args.subscribe_poll_interval,
        invoke_timeout=args.invoke_timeout,
        concurrency=max(args.concurrency, 1),
        # Well above the read loop's block time, so a live sibling never looks stale.
        stale_group_seconds=max(args.stale_group_after, 2.0),
        log_level=args.log_level,
        app_api_token=os.environ.get("APP_API_TOKEN") or None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_settings(argv)
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        # Deliveries in flight are cut short on shutdown; they stay pending and are redelivered.
        timeout_graceful_shutdown=5,
    )
    QuietServer(config).run()
