"""Prometheus metrics: request latency histogram and error count, per service registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency",
            ["service", "method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_request_errors_total",
            "Responses with status >= 400",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "dependency_fallbacks_total",
            "Answers served from a fallback (e.g. a last known copy) because a dependency failed",
            ["service", "dependency", "what"],
            registry=self.registry,
        )
        self.service = service

    def fallback(self, dependency: str, what: str) -> None:
        self.fallbacks.labels(self.service, dependency, what).inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (self.service, method, route, str(status))
        self.latency.labels(*labels).observe(seconds)
        if status >= 400:
            self.errors.labels(*labels).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
