"""Request logs (structlog, with phones and emails masked) and Prometheus metrics.

Metrics live in a registry per app, so several apps in one process (tests) never collide.
Under gunicorn each worker counts its own requests; a scrape sees the worker that answers it
(prometheus-client's multiprocess mode is not set up).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import structlog
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from engine.privacy import mask_personal_data


def configure_logging() -> None:
    structlog.configure(processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        mask_personal_data,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(ensure_ascii=False),
    ], logger_factory=structlog.PrintLoggerFactory(sys.stderr))


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("tend_http_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "method", "status"], registry=registry)
        self.latency = Histogram("tend_http_request_seconds", "HTTP request latency",
                                 ["endpoint", "method"], registry=registry)
        self.events = Counter("tend_events_ingested", "Events newly stored via POST /events",
                              registry=registry)


class _GaugeCollector(Collector):
    """A gauge computed on each scrape from a callable returning {label value: number}."""

    def __init__(self, name: str, doc: str, label: str, read: Any) -> None:
        self.name, self.doc, self.label, self.read = name, doc, label, read

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names only, so registering never reads (there is no request or database yet)."""
        yield GaugeMetricFamily(self.name, self.doc, labels=[self.label])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.doc, labels=[self.label])
        for value, count in sorted(self.read().items()):
            family.add_metric([value], count)
        yield family


def add_gauge(metrics: HttpMetrics, name: str, doc: str, label: str, read: Any) -> None:
    metrics.registry.register(_GaugeCollector(name, doc, label, read))


def instrument(app: Flask) -> HttpMetrics:
    metrics = HttpMetrics(CollectorRegistry())
    log = structlog.get_logger("tend.http")

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        metrics.latency.labels(endpoint, request.method).observe(elapsed)
        user = g.get("user")
        log.info("request", method=request.method, path=request.path,
                 status=response.status_code, ms=round(elapsed * 1000, 1),
                 user=getattr(user, "name", None))
        return response

    return metrics


def exposition(metrics: HttpMetrics) -> Response:
    return Response(generate_latest(metrics.registry), mimetype="text/plain; version=0.0.4")
