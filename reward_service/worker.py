"""A Redis queue worker: ``python -m reward_service worker --redis-url URL``. Run any number, on any hosts.

Each worker reads chunks from the stream with XREADGROUP, grades them with the same
:class:`~reward_service.engine.GradingEngine` as the embedded queue (shared Redis result cache in front),
writes each item's result once (HSETNX) and acknowledges the entry. While it grades, it re-claims its own
entries every third of ``visibility_timeout_s``; a worker that dies stops doing so, and after the visibility
timeout another worker takes its entries over with XAUTOCLAIM.

A taken-over chunk is graded one item at a time, each item alone in its worker (nothing else grades there
meanwhile) and each start counted per item in Redis: a crash is then charged to that item only, and an item
that keeps killing workers is answered ``error`` after ``max_deliveries`` attempts while the rest of its chunk
is graded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import lru_cache
from typing import Any, TypeVar

import redis.exceptions

from reward_service import constants as k
from reward_service.engine import GradingEngine, result_cache_key
from reward_service.queue.chunks import WRITE_RESULTS, Chunk, connect, ensure_group, failed, item_fields
from reward_service.recipes import Recipe, resolve
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)
Graded = tuple[int, ScoreItem | None, ItemResult]  # (index in the job, the item if it parsed, its result)


class _Gate:
    """Ordinary chunks share the worker; a suspect item (from a taken-over chunk) has it to itself. Waiting
    suspects hold new ordinary chunks back, so they are not starved."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._cond:
            await self._cond.wait_for(lambda: not self._exclusive and not self._waiting)
            self._shared += 1
        try:
            yield
        finally:
            async with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._cond:
            self._waiting += 1
            try:
                await self._cond.wait_for(lambda: not self._exclusive and not self._shared)
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@lru_cache(maxsize=64)
def _recipe(key: str) -> Recipe:
    import json
    return resolve(json.loads(key), "")


class Worker:
    def __init__(self, client: Any, engine: GradingEngine, settings: Settings, name: str | None = None) -> None:
        self.redis = client
        self.engine = engine
        self.settings = settings
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self._write_script = client.register_script(WRITE_RESULTS)
        self._cursor = "0-0"
        self._gate = _Gate()

    # -- loops ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self._retrying(lambda: ensure_group(self.redis), what="create the consumer group")
        log.info("worker %s reading %s (group %s)", self.name, k.STREAM, k.GROUP)
        loops = [asyncio.create_task(self._every(stop, self.settings.visibility_timeout_s / 3, self._heartbeat)),
                 asyncio.create_task(self._every(stop, self.settings.visibility_timeout_s / 2, self._reclaim))]
        try:
            while not stop.is_set():
                try:
                    await self._read()
                except _REDIS_DOWN as exc:
                    log.warning("worker %s: Redis unreachable (%s); retrying", self.name, exc)
                    await asyncio.sleep(1.0)
        finally:
            if self.in_flight:  # finish what we hold; whatever does not finish is reclaimed by others
                await asyncio.wait(list(self.in_flight.values()), timeout=self.settings.visibility_timeout_s)
            for task in loops:
                task.cancel()
            with contextlib.suppress(*_REDIS_DOWN):
                await self.redis.zrem(k.WORKERS, self.name)
            log.info("worker %s stopped", self.name)

    async def _read(self) -> None:
        free = self.settings.worker_prefetch - len(self.in_flight)
        if free <= 0:
            await asyncio.wait(list(self.in_flight.values()), timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            return
        reply = await self.redis.xreadgroup(k.GROUP, self.name, {k.STREAM: ">"}, count=free, block=1000)
        for _, entries in (reply.items() if isinstance(reply, dict) else reply or []):
            for entry_id, fields in entries:
                self._start(entry_id, fields, redelivered=False)

    async def _every(self, stop: asyncio.Event, period: float, fn: Callable[[], Awaitable[None]]) -> None:
        while not stop.is_set():
            try:
                await fn()
            except _REDIS_DOWN:
                pass  # the main loop reports it
            except Exception:
                log.exception("worker %s: %s failed", self.name, fn.__name__)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.1, period))

    async def _heartbeat(self) -> None:
        """Say we are alive, and reset the idle time of the entries we hold so nobody reclaims them."""
        await self.redis.zadd(k.WORKERS, {self.name: time.time()})
        if self.in_flight:
            await self.redis.xclaim(k.STREAM, k.GROUP, self.name, min_idle_time=0,
                                    message_ids=list(self.in_flight), justid=True)

    async def _reclaim(self) -> None:
        """Take over entries whose worker stopped heartbeating (XAUTOCLAIM after the visibility timeout)."""
        free = self.settings.worker_prefetch - len(self.in_flight)
        if free <= 0:
            return
        reply = await self.redis.xautoclaim(k.STREAM, k.GROUP, self.name,
                                            min_idle_time=int(self.settings.visibility_timeout_s * 1000),
                                            start_id=self._cursor, count=free)
        self._cursor, claimed = reply[0], reply[1]
        for entry_id, fields in claimed:
            if entry_id in self.in_flight:
                continue
            log.warning("worker %s: took over chunk %s from a worker that stopped", self.name, entry_id)
            self._start(entry_id, fields, redelivered=True)

    def _start(self, entry_id: str, fields: dict[str, str] | None, redelivered: bool) -> None:
        task = asyncio.create_task(self._handle(entry_id, fields, redelivered), name=f"chunk-{entry_id}")
        self.in_flight[entry_id] = task
        task.add_done_callback(lambda t: self._done(entry_id, t))

    def _done(self, entry_id: str, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(entry_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("worker %s: chunk %s left for redelivery: %r", self.name, entry_id, task.exception())

    # -- one chunk --------------------------------------------------------------------------------------

    async def _handle(self, entry_id: str, fields: dict[str, str] | None, redelivered: bool) -> None:
        try:
            chunk = Chunk.from_fields(fields or {})
        except (KeyError, ValueError) as exc:
            log.error("worker %s: dropping malformed entry %s: %s", self.name, entry_id, exc)
            await self._ack(entry_id)
            return
        if not await self.redis.exists(k.job_key(chunk.job)):  # expired, or /score gave up on it
            await self._ack(entry_id)
            return
        indexed = chunk.indexed()
        answered = await self.redis.hmget(k.results_key(chunk.job), [str(i) for i, _ in indexed])
        todo = [pair for pair, seen in zip(indexed, answered, strict=True) if seen is None]
        try:
            if redelivered:
                for index, row in todo:
                    await self._write(chunk, [await self._attempt(chunk, index, row)])
            elif todo:
                async with self._gate.shared():
                    graded = await self._grade(todo, chunk.recipe)
                await self._write(chunk, graded)
        except _REDIS_DOWN:
            raise
        except Exception as exc:  # a bug, not a crash: answer rather than redeliver forever
            log.exception("worker %s: chunk %s failed", self.name, entry_id)
            await self._write(chunk, [(i, None, failed(row, f"worker error: {exc!r}")) for i, row in todo])
        await self._ack(entry_id)

    async def _attempt(self, chunk: Chunk, index: int, row: dict[str, Any]) -> Graded:
        """Grade one item of a taken-over chunk, unless it already took down ``max_deliveries`` workers."""
        key = k.attempts_key(chunk.job)
        async with self._gate.exclusive():
            attempts = await self.redis.hincrby(key, str(index), 1) + 1  # its first delivery was attempt 1
            await self.redis.expireat(key, chunk.expires)
            if attempts > self.settings.max_deliveries:
                log.error("worker %s: item %d of job %s crashed %d workers; answering error", self.name, index,
                          chunk.job, attempts - 1)
                return index, None, failed(row, f"grading this item stopped the worker {attempts - 1} times")
            return (await self._grade([(index, row)], chunk.recipe))[0]

    async def _grade(self, todo: list[tuple[int, dict[str, Any]]], recipe_key: str) -> list[Graded]:
        recipe = _recipe(recipe_key)
        items = [ScoreItem.model_validate(row) for _, row in todo]
        self._test_crash_hook(items)
        results: list[ItemResult | None] = [None] * len(items)
        ttl = self.settings.shared_cache_ttl_s
        keys = [k.cache_key(result_cache_key(item, recipe)) for item in items] if ttl else []
        if ttl:
            for j, hit in enumerate(await self.redis.mget(keys)):
                if hit is not None:
                    cached = ItemResult.model_validate_json(hit)
                    results[j] = cached.model_copy(update={"id": items[j].id,
                                                           "details": {**cached.details, "cached": True}})
        misses = [j for j, r in enumerate(results) if r is None]
        graded = await self.engine.score([items[j] for j in misses], recipe)
        async with self.redis.pipeline(transaction=False) as pipe:
            for j, result in zip(misses, graded, strict=True):
                results[j] = result
                if ttl and result.status is Status.ok:
                    pipe.set(keys[j], result.model_dump_json(), ex=ttl, nx=True)
            await pipe.execute()
        return [(i, item, r) for (i, _), item, r in zip(todo, items, results, strict=True) if r is not None]

    def _test_crash_hook(self, items: list[ScoreItem]) -> None:
        prefix = self.settings.test_crash_prefix  # TEST ONLY (poison-item tests); unset in every deployment
        if prefix and any(str(item.id).startswith(prefix) for item in items):
            log.warning("worker %s: test crash hook fired", self.name)
            os._exit(86)

    async def _write(self, chunk: Chunk, graded: list[Graded]) -> None:
        args: list[Any] = [chunk.expires]
        for index, item, result in graded:
            fields = item_fields(item, result) if item is not None else ["items:unknown:error"]
            args += [index, result.model_dump_json(), " ".join(fields)]
        keys = [k.results_key(chunk.job), k.STATS, k.notify_key(chunk.job)]
        await self._retrying(lambda: self._write_script(keys=keys, args=args), what="write results")

    async def _ack(self, entry_id: str) -> None:
        async def ack() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(k.STREAM, k.GROUP, entry_id)
                pipe.xdel(k.STREAM, entry_id)
                await pipe.execute()
        await self._retrying(ack, what="acknowledge")

    async def _retrying(self, fn: Callable[[], Awaitable[T]], what: str, patience_s: float = 60.0) -> T:
        """Ride out a Redis restart (with AOF, nothing is lost meanwhile); give up after ``patience_s``."""
        deadline, delay = time.monotonic() + patience_s, 0.2
        while True:
            try:
                return await fn()
            except _REDIS_DOWN as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("worker %s: could not %s (%s); retrying", self.name, what, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


async def run_worker(settings: Settings) -> None:
    """Start the grader pool, then work until SIGTERM/SIGINT (finishing the chunks in hand)."""
    engine = GradingEngine(settings)
    await engine.start()
    client = connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.test_crash_prefix:
        log.warning("TEST ONLY crash hook is on (REWARD_TEST_CRASH_PREFIX); never set it in a deployment")
    try:
        await Worker(client, engine, settings).run(stop)
    finally:
        await engine.aclose()
        await client.aclose()
