"""Everything long-lived is bounded: the result caches by bytes, the embedded job store by items held and by
its TTL. (The grader pool's respawns: test_pool.py; Redis consumers: test_handoff.py; the trainer's scorer
history: tests/trainer/test_rewards.py.)"""

from __future__ import annotations

import asyncio

import pytest

from reward_service.cache import LRUCache, approx_size
from reward_service.engine import GradingEngine
from reward_service.errors import Overloaded
from reward_service.queue.jobs import MemoryJobs
from reward_service.recipes import Recipe, resolve
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings


def result(i: int, details_chars: int = 0) -> ItemResult:
    return ItemResult(id=i, reward=1.0, components={"accuracy": 1.0}, details={"log": "x" * details_chars})


def test_cache_is_bounded_by_bytes_not_entries():
    cache = LRUCache(max_bytes=50_000)
    for i in range(200):
        cache.put(f"key-{i}", result(i, details_chars=1_000))
    assert cache.bytes <= 50_000
    assert 20 <= len(cache) < 50  # ~1.2 KB each
    assert cache.get("key-199") is not None and cache.get("key-0") is None  # least recently used went first
    cache.put("huge", result(0, details_chars=100_000))  # larger than the whole budget: not kept
    assert cache.get("huge") is None and cache.get("key-199") is not None
    small = LRUCache(max_bytes=50_000)
    for i in range(200):
        small.put(f"key-{i}", result(i))
    assert len(small) > len(cache)  # the same budget holds more small entries


def test_size_estimate_is_close_enough_and_cheap():
    r = result(1, details_chars=10_000)
    assert 10_000 <= approx_size(r) <= 12_000
    assert approx_size({"a": [1, 2, "xyz"]}) < 500


def test_engine_caches_share_the_configured_budget():
    engine = GradingEngine(Settings(cache_max_mb=8))
    assert engine.results.max_bytes + engine.accuracy.max_bytes == 8 * 1024 * 1024
    assert GradingEngine(Settings(cache_max_mb=0)).results.max_bytes == 0


class Instant:
    """A grading backend that answers at once."""

    async def score(self, items: list[ScoreItem], recipe: Recipe, *,
                    caller: str = "anonymous") -> list[ItemResult]:
        await asyncio.sleep(0)
        return [ItemResult(id=i.id, reward=1.0) for i in items]

    def describe(self) -> dict:
        return {"queue": "test", "workers": 0}

    async def aclose(self) -> None:
        pass


async def test_memory_jobs_are_capped_by_items_and_swept_after_their_ttl():
    jobs = MemoryJobs(Instant(), ttl_s=0.3, max_items=10)
    recipe = resolve("accuracy", "")
    items = [ScoreItem(id=i, completion="x") for i in range(6)]
    first = await jobs.submit(items, recipe, owner="a")
    with pytest.raises(Overloaded):
        await jobs.submit(items, recipe, owner="a")  # 12 items would be held: over the cap
    await asyncio.sleep(0.05)
    assert (await jobs.get(first, "a")).state == "done"
    await asyncio.sleep(0.4)  # past the TTL: the store's timer swept it, nobody had to call the store
    assert jobs.held_items == 0 and len(jobs) == 0
    second = await jobs.submit(items, recipe, owner="a")  # room again
    assert (await jobs.get(second, "a")).total == 6


class Gated(Instant):
    """Answers a slice only when the test lets the next one through."""

    def __init__(self) -> None:
        self.gate = asyncio.Semaphore(0)

    async def score(self, items: list[ScoreItem], recipe: Recipe, *,
                    caller: str = "anonymous") -> list[ItemResult]:
        await self.gate.acquire()
        return await super().score(items, recipe, caller=caller)


async def test_an_embedded_job_reports_progress_while_it_runs():
    backend = Gated()
    jobs = MemoryJobs(backend, ttl_s=60)
    items = [ScoreItem(id=i, completion="x") for i in range(100)]  # slices of 32, 32, 32, 4
    job = await jobs.submit(items, resolve("accuracy", ""), owner="a")
    seen = []
    for _ in range(4):
        await asyncio.sleep(0.01)
        view = await jobs.get(job, "a")
        seen.append((view.state, view.done))
        backend.gate.release()
    await asyncio.sleep(0.01)
    final = await jobs.get(job, "a")
    assert seen[0] == ("queued", 0) and seen[1][0] == seen[2][0] == seen[3][0] == "running"
    assert 0 < seen[1][1] < seen[2][1] < seen[3][1] < 100
    assert (final.state, final.done, [r.id for r in final.results or []]) == ("done", 100, list(range(100)))
