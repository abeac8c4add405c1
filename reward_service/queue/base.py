"""What the API needs from a grading backend: the embedded engine and the Redis queue both provide it; and
what only a backend shared by every API replica provides (the Redis queue): :class:`SharedCounters`."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from reward_service.queue.fair import ANONYMOUS
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem


class GradingBackend(Protocol):
    async def score(self, items: list[ScoreItem], recipe: Recipe, *, caller: str = ANONYMOUS) -> list[ItemResult]:
        """Results in request order; never raises for a bad item (it fails alone in its result). ``caller``
        (the API key id) is whose share of the graders the items take."""
        ...

    def describe(self) -> dict[str, Any]:
        """A few facts for /healthz (queue kind, workers)."""
        ...

    async def ready(self) -> dict[str, Any]:
        """For /readyz: ``ok`` (can grade every kind of item now), and what it depends on (the sandbox where
        code items are graded; Redis and live workers for the Redis queue)."""
        ...

    async def snapshot(self) -> dict[str, Any]:
        """Counters and gauges for /metrics (``counters``, ``engine``, queue gauges); may raise when the
        store behind them is down."""
        ...

    async def aclose(self) -> None:
        ...


@runtime_checkable
class SharedCounters(Protocol):
    """Counters every API replica shares, such as requests per key per minute (the rate limit)."""

    async def count(self, key: str, ttl_s: int) -> int:
        """Add one to counter ``key``, which expires ``ttl_s`` seconds from now, and return its value."""
        ...
