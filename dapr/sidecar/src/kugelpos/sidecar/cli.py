"""Command line: `python -m kugelpos.sidecar --port 3500 --app account=http://127.0.0.1:8000`."""

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from kugelpos.sidecar.access_control import AccessControlError, load_access_control
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
        "--config",
        type=Path,
        default=Path(env("SIDECAR_CONFIG")) if env("SIDECAR_CONFIG") else None,
        help="Dapr Configuration file (as daprd --config): its accessControl guards invocation",
    )
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
    # As daprd: the tokens come from the environment (APP_API_TOKEN, DAPR_API_TOKEN), not
    # argv, where any local user could read them.
    return p


def _api_tokens(
    parser: argparse.ArgumentParser, apps: list[AppTarget], sidecar_id: str
) -> tuple[tuple[str, str], ...]:
    """DAPR_API_TOKENS: a JSON object {"<app id>": "<token>"}, one per app this sidecar serves
    (apps may also be named that it does not deliver to). DAPR_API_TOKEN, daprd's variable: the
    token of the one app served (or of the sidecar id when it serves none)."""
    many = os.environ.get("DAPR_API_TOKENS", "").strip()
    one = os.environ.get("DAPR_API_TOKEN", "").strip()
    if many and one:
        parser.error("give DAPR_API_TOKENS or DAPR_API_TOKEN, not both")
    if one:
        if len(apps) > 1:
            parser.error(
                "DAPR_API_TOKEN names no app and this sidecar serves several: give each app its "
                'own token in DAPR_API_TOKENS={"<app id>": "<token>", ...}'
            )
        return ((apps[0].app_id if apps else sidecar_id, one),)
    if not many:
        return ()
    try:
        tokens = json.loads(many)
    except ValueError:
        tokens = None
    if not isinstance(tokens, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v.strip() for k, v in tokens.items()
    ):
        parser.error('DAPR_API_TOKENS must be a JSON object {"<app id>": "<token>", ...}')
    if len(set(tokens.values())) != len(tokens):
        parser.error("DAPR_API_TOKENS: each app needs a token of its own")
    missing = [a.app_id for a in apps if a.app_id not in tokens]
    if missing:
        parser.error(f"DAPR_API_TOKENS has no token for {', '.join(missing)}")
    return tuple((app_id, token.strip()) for app_id, token in tokens.items())


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    parser = _parser()
    args = parser.parse_args(argv)
    ids = [a.app_id for a in args.apps]
    if len(ids) != len(set(ids)):
        parser.error("each --app id may be given once")
    if args.config is not None:
        if not args.config.is_file():
            parser.error(f"--config {args.config}: no such file")
        try:
            load_access_control(args.config)
        except (AccessControlError, ValueError) as exc:
            parser.error(f"--config {args.config}: {exc}")
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
        api_tokens=_api_tokens(parser, args.apps, args.sidecar_id),
        config_path=args.config,
        namespace=os.environ.get("NAMESPACE") or "default",
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
