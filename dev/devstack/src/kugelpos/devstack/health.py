"""Readiness probes. Each returns None when ready, else a short reason used in timeout errors."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import redis
from pymongo import MongoClient
from pymongo.errors import PyMongoError

Probe = Callable[[], str | None]
_TIMEOUT_SECONDS = 1.0


def redis_probe(url: str) -> Probe:
    def probe() -> str | None:
        client = redis.Redis.from_url(
            url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            return f"PING failed: {exc}"
        finally:
            client.close()
        return None

    return probe


def mongo_probe(uri: str) -> Probe:
    def probe() -> str | None:
        client: MongoClient[dict[str, object]] = MongoClient(
            uri, serverSelectionTimeoutMS=int(_TIMEOUT_SECONDS * 1000)
        )
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            return f"ping failed: {exc}"
        finally:
            client.close()
        return None

    return probe


def tcp_probe(ports: list[int], host: str = "127.0.0.1") -> Probe:
    """Ready when every port accepts a connection."""

    def probe() -> str | None:
        for port in ports:
            try:
                socket.create_connection((host, port), timeout=_TIMEOUT_SECONDS).close()
            except OSError as exc:
                return f"connect {host}:{port}: {exc}"
        return None

    return probe


def http_probe(url: str, expect_status: int) -> Probe:
    def probe() -> str | None:
        try:
            response = httpx.get(url, timeout=_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            return f"GET {url}: {exc!r}"
        if response.status_code != expect_status:
            return f"GET {url}: {response.status_code}, want {expect_status}"
        return None

    return probe


def service_health_probe(base_url: str) -> Probe:
    """GET /health must answer 200 with status "healthy" (top level or inside the envelope)."""
    url = f"{base_url}/health"

    def probe() -> str | None:
        try:
            response = httpx.get(url, timeout=_TIMEOUT_SECONDS * 5)
        except httpx.HTTPError as exc:
            return f"GET {url}: {exc!r}"
        if response.status_code != 200:
            return f"GET {url}: {response.status_code} {response.text[:300]}"
        try:
            body = response.json()
        except ValueError:
            return f"GET {url}: not JSON: {response.text[:300]}"
        status = body.get("status") if isinstance(body, dict) else None
        if status is None and isinstance(body, dict) and isinstance(body.get("data"), dict):
            status = body["data"].get("status")
        if status != "healthy":
            return f"GET {url}: status {status!r}: {response.text[:300]}"
        return None

    return probe
