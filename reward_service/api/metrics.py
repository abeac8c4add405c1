"""Prometheus ``/metrics``, request ids and access logs.

Per request (this process): ``reward_request_seconds`` histogram by method, route and status. Per item:
``reward_items_graded_total`` by task and status, ``reward_cache_hits_total``, ``reward_sandbox_runs_total``
by status and ``reward_sandbox_timeouts_total`` -- counted where items are graded: by the workers in Redis
(so with the Redis queue they are totals over every worker, the same from every API replica), or by this
process for the embedded queue. Queue gauges: ``reward_queue_depth`` (chunks waiting or in flight, handed
back ones included), ``reward_queue_pending`` (delivered, not yet acknowledged), ``reward_workers_alive``
(workers taking work: a heartbeat within ``heartbeat_s``; a stopping worker leaves at once, a killed one
within ``heartbeat_s``). The sandbox as a tool (this process; with Redis, summed over the workers):
``reward_sessions_live``, ``reward_sessions_ended_total`` by how (expired, died, deleted).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from reward_service.logs import request_id
from reward_service.queue.base import GradingBackend
from reward_service.queue.chunks import tally
from reward_service.queue.fair import ANONYMOUS
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem

log = logging.getLogger("reward_service.access")
router = APIRouter()

_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class RequestContext:
    """Pure ASGI middleware: a request id (the client's ``X-Request-ID`` when sane, else a new one), echoed
    in the response; the latency histogram; one access-log line per request."""

    def __init__(self, app: Any, registry: CollectorRegistry) -> None:
        self.app = app
        self.latency = Histogram("reward_request_seconds", "HTTP request latency", ["method", "route", "status"],
                                 buckets=BUCKETS, registry=registry)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.latency.labels(scope["method"], route, str(status)).observe(elapsed)
            caller = (scope.get("state") or {}).get("caller")  # the key id, never the key
            log.info("%s %s %d %.1f ms", scope["method"], route, status, elapsed * 1000,
                     extra={"status": status, "ms": round(elapsed * 1000, 2), "caller": caller})
            request_id.reset(token)


class CountingBackend:
    """The embedded engine with the per-item counters the Redis workers keep in Redis."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    async def score(self, items: list[ScoreItem], recipe: Recipe, *, caller: str = ANONYMOUS) -> list[ItemResult]:
        results = await self.inner.score(items, recipe, caller=caller)
        self.counts.update(tally(items, results))
        return results

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    async def snapshot(self) -> dict[str, Any]:
        return {"counters": dict(self.counts), "engine": self.inner.stats()}

    async def ready(self) -> dict[str, Any]:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Snapshot:
    """A one-shot collector over what the backend reported."""

    def __init__(self, snap: dict[str, Any]) -> None:
        self.snap = snap

    def collect(self) -> Any:
        counters: dict[str, int] = self.snap.get("counters", {})
        items = CounterMetricFamily("reward_items_graded", "Items graded, by task and status", labels=["task", "status"])
        sandbox = CounterMetricFamily("reward_sandbox_runs", "Code items graded, by status", labels=["status"])
        for field, value in sorted(counters.items()):
            parts = field.split(":")
            if parts[0] == "items" and len(parts) == 3:
                items.add_metric(parts[1:], value)
            elif parts[0] == "sandbox" and len(parts) == 2:
                sandbox.add_metric(parts[1:], value)
        yield items
        yield sandbox
        yield CounterMetricFamily("reward_sandbox_timeouts", "Code items that hit a time limit",
                                  value=counters.get("sandbox_timeouts", 0))
        yield CounterMetricFamily("reward_cache_hits", "Items answered from a result cache",
                                  value=counters.get("cache_hits", 0))
        for name, help_text in (("queue_depth", "Chunks waiting or in flight"),
                                ("queue_pending", "Chunks delivered to a worker, not yet acknowledged"),
                                ("workers_alive", "Workers taking work (a heartbeat within heartbeat_s)")):
            if name in self.snap:
                yield GaugeMetricFamily(f"reward_{name}", help_text, value=self.snap[name])
        for name, value in self.snap.get("engine", {}).items():
            yield GaugeMetricFamily(f"reward_engine_{name}", f"Grading engine: {name.replace('_', ' ')}",
                                    value=value)


class _Sessions:
    """The sandbox as a tool (this process, or the workers'): live sessions, and those ended by how."""

    def __init__(self, live: int, ended: dict[str, int]) -> None:
        self.live, self.ended = live, ended

    def collect(self) -> Any:
        yield GaugeMetricFamily("reward_sessions_live", "Tool sessions open (with Redis: on live workers)",
                                value=self.live)
        ended = CounterMetricFamily("reward_sessions_ended", "Tool sessions ended, by how", labels=["how"])
        for how, count in sorted(self.ended.items()):
            ended.add_metric([how], count)
        yield ended


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    backend: GradingBackend = request.app.state.backend
    registry = CollectorRegistry(auto_describe=False)
    try:
        registry.register(_Snapshot(await backend.snapshot()))
    except Exception as exc:  # Redis down: still serve this process's own metrics
        log.warning("metrics snapshot failed: %r", exc)
    tools = getattr(request.app.state, "tools", None)
    if tools is not None:
        registry.register(_Sessions(*await tools.session_counts()))
    body = generate_latest(request.app.state.registry) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
