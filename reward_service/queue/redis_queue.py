"""The API side of the Redis queue: enqueue a batch as chunks on a stream, wait for (or look up) its results.

``/score`` submits a short-lived job and blocks on the job's notify list until every item is answered or
``score_timeout_s`` passes; items not answered by then are status ``error`` (never dropped). With no worker
alive it answers 503 at once rather than wait for nobody. ``/jobs`` submits a job that lives ``job_ttl_s``
and is read back by id; everything about it is in Redis, so it outlives the API process (and waits for
workers to come). Workers (:mod:`reward_service.worker`) grade the chunks.

Turning a large batch into chunks (and results back into models) is CPU work; past a few hundred items it
runs in a thread so that the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from reward_service import constants as k
from reward_service.components.reward_model import models_in
from reward_service.errors import GraderUnavailable, NotFound, Overloaded
from reward_service.queue.chunks import REDIS_DOWN, Chunk, all_streams, connect, ensure_group, failed
from reward_service.queue.fair import ANONYMOUS
from reward_service.queue.jobs import JobView, hash_key, state_of
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

_NO_OWNER = "-"  # /score jobs are never read back by id
_OFF_LOOP = 256  # items: more than this are serialised or parsed in a thread
_LINGER_S = 0.01  # after a wake-up, let a few more answers land before looking again


@contextlib.contextmanager
def _redis_errors() -> Iterator[None]:
    """Redis unreachable (restarting, say) is the queue being unavailable: 503, and the client retries."""
    try:
        yield
    except REDIS_DOWN as exc:
        raise GraderUnavailable(f"queue unavailable: {type(exc).__name__}: {exc}") from exc


class RedisQueue:
    """A :class:`~reward_service.queue.base.GradingBackend` and a :class:`~reward_service.queue.jobs.JobStore`."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.workers_alive = 0
        self._refresher: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, settings: Settings) -> RedisQueue:
        client = connect(settings)
        await ensure_group(client)
        queue = cls(client, settings)
        await queue.count_workers()
        queue._refresher = asyncio.create_task(queue._refresh_workers(), name="count-workers")
        return queue

    @classmethod
    def unreachable(cls, settings: Settings) -> RedisQueue:
        """A queue on a Redis that did not answer at start (a cell, :mod:`~reward_service.queue.cells`): its
        calls fail as Redis being down until it answers; the stream's group is the workers' to create."""
        queue = cls(connect(settings), settings)
        queue._refresher = asyncio.create_task(queue._refresh_workers(), name="count-workers")
        return queue

    async def _refresh_workers(self) -> None:
        """Keep ``describe()`` (sync, for /healthz) current; warn while no worker is alive."""
        warned = 0.0
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                if await self.count_workers() == 0 and time.monotonic() - warned > 60:
                    warned = time.monotonic()
                    log.warning("no queue worker alive: start `python -m reward_service worker`")
            except REDIS_DOWN as exc:
                log.warning("Redis unreachable: %s", exc)

    # -- submitting -------------------------------------------------------------------------------------

    async def submit(self, items: list[ScoreItem], recipe: Recipe, owner: str,
                     idempotency_key: str | None = None) -> str:
        return await self.submit_as(uuid.uuid4().hex, items, recipe, owner, idempotency_key)

    async def submit_as(self, job_id: str, items: list[ScoreItem], recipe: Recipe, owner: str,
                        idempotency_key: str | None = None, *, registry: Any = None) -> str:
        """Submit as ``job_id``; ``registry`` is the Redis that holds the idempotency keys (cell 0's when
        there are cells, :mod:`reward_service.queue.cells`; else this one)."""
        with _redis_errors():
            return await self._submit(job_id, items, recipe, owner, idempotency_key, registry or self.redis)

    async def _submit(self, job_id: str, items: list[ScoreItem], recipe: Recipe, owner: str,
                      idempotency_key: str | None, registry: Any) -> str:
        ttl = self.settings.job_ttl_s
        if idempotency_key is None:
            return await self._enqueue(job_id, items, recipe, owner, "job", ttl)
        idem = k.idempotency_key(owner, hash_key(idempotency_key))
        if not await registry.set(idem, job_id, nx=True, ex=ttl):
            earlier = await registry.get(idem)
            if earlier is not None:
                return str(earlier)
            await registry.set(idem, job_id, ex=ttl)  # expired between the two calls
        try:
            return await self._enqueue(job_id, items, recipe, owner, "job", ttl)
        except BaseException:
            await registry.delete(idem)
            raise

    async def _enqueue(self, job_id: str, items: list[ScoreItem], recipe: Recipe, owner: str, kind: str,
                       ttl: float) -> str:
        """Chunks of ``owner``'s items on the stream; the job's record names the owner only for ``/jobs``
        (a ``/score`` job is never read back by id)."""
        depth = await self.depth()
        if depth >= self.settings.queue_max_depth:
            raise Overloaded(f"queue full ({depth} chunks waiting or in flight); retry later",
                             retry_after=self.settings.overload_retry_after_s)
        if kind == "score" and self.workers_alive == 0 and await self.count_workers() == 0:
            raise GraderUnavailable("no queue worker alive (none sent a heartbeat within "
                                    f"{self.settings.heartbeat_s:g} s); start `python -m reward_service worker`")
        stream = await self.stream_for(recipe, kind)
        now = time.time()
        expires = int(now + ttl) + 1
        chunks = await _off_loop(len(items), self._chunk_fields, job_id, items, recipe, expires, owner)
        async with self.redis.pipeline(transaction=True) as pipe:
            record_owner = owner if kind == "job" else _NO_OWNER
            pipe.hset(k.job_key(job_id), mapping={"owner": record_owner, "total": len(items), "created": now,
                                                  "expires": expires, "kind": kind, "recipe": recipe.name})
            pipe.expireat(k.job_key(job_id), expires)
            for fields in chunks:
                pipe.xadd(stream, fields)  # type: ignore[arg-type]
            await pipe.execute()
        return job_id

    async def stream_for(self, recipe: Recipe, kind: str) -> str:
        """The stream for ``recipe``'s chunks: the general one, or, when it names reward models, that of a
        pool whose live workers serve them all (the one with most workers). A job may also wait for a pool
        that has no live worker now; ``/score`` gets a 503 at once, naming the models."""
        needed = models_in(recipe)
        if not needed:
            return k.STREAM
        live = await self.pools()
        serving = [pool for pool in live if live[pool] and needed <= k.pool_models(pool)]
        if not serving and kind == "job":
            serving = [pool for pool in live if needed <= k.pool_models(pool)]
        if not serving:
            names = ",".join(sorted(needed))
            raise GraderUnavailable(f"no queue worker serves reward model(s) {names} (pools with live workers: "
                                    f"{', '.join(p for p in sorted(live) if live[p]) or 'none'}); start "
                                    f"`python -m reward_service worker --models {names}`")
        return k.pool_streams(max(sorted(serving), key=lambda pool: live[pool]))[1]

    async def pools(self) -> dict[str, int]:
        """Every model pool with streams -> how many live workers serve it."""
        names = await self.redis.zrangebyscore(k.WORKERS, time.time() - self.settings.heartbeat_s, "+inf")
        reports = [json.loads(r) for r in await self.redis.hmget(k.SANDBOXES, names) if r] if names else []
        counts = dict.fromkeys(await self.redis.smembers(k.POOLS), 0)
        for report in reports:
            pool = k.pool_of(report.get("models") or [])
            if pool:
                counts[pool] = counts.get(pool, 0) + 1
        return counts

    def _chunk_fields(self, job_id: str, items: list[ScoreItem], recipe: Recipe, expires: int,
                      owner: str) -> list[dict[str, str]]:
        rows = [item.model_dump(mode="json", exclude_none=True) for item in items]
        size = self.settings.chunk_size
        return [Chunk(job_id, start, recipe.key, tuple(rows[start:start + size]), expires, owner=owner).to_fields()
                for start in range(0, len(rows), size)]

    # -- the synchronous path ---------------------------------------------------------------------------

    async def score(self, items: list[ScoreItem], recipe: Recipe, *, caller: str = ANONYMOUS) -> list[ItemResult]:
        if not items:
            return []
        timeout = self.settings.score_timeout_s
        with _redis_errors():
            job_id = await self._enqueue(uuid.uuid4().hex, items, recipe, caller, "score", timeout + 60)
        try:
            found = await self._wait(job_id, len(items), time.monotonic() + timeout)
        finally:  # workers skip the chunks of a job that is gone
            with contextlib.suppress(*REDIS_DOWN):
                await self.redis.delete(k.job_key(job_id), k.results_key(job_id), k.notify_key(job_id),
                                        k.attempts_key(job_id))
        missing = [i for i in range(len(items)) if i not in found]
        if missing:
            log.warning("job %s: %d of %d items not answered within %.0f s", job_id, len(missing), len(items),
                        timeout)
        reason = f"not graded within score_timeout_s={timeout:g} s (queue busy or no workers)"
        return [found.get(i) or failed(item.model_dump(), reason) for i, item in enumerate(items)]

    async def _wait(self, job_id: str, total: int, deadline: float) -> dict[int, ItemResult]:
        """Block on the job's notify list until all ``total`` results are in or ``deadline`` passes; rides
        out a Redis restart. Workers push a token per completed chunk; one wake-up takes every token there is
        (and a wake-up every 2 s rechecks regardless)."""
        while True:
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.delete(k.notify_key(job_id))  # tokens so far: the count below covers them
                    pipe.hlen(k.results_key(job_id))
                    _, done = await pipe.execute()
                left = deadline - time.monotonic()
                if done >= total or left <= 0:
                    return await self._results(job_id)
                if await self.redis.blpop([k.notify_key(job_id)], timeout=min(left, 2.0)):
                    await asyncio.sleep(_LINGER_S)
            except REDIS_DOWN as exc:
                if time.monotonic() > deadline:
                    log.error("job %s: Redis unreachable at the deadline: %s", job_id, exc)
                    return {}
                await asyncio.sleep(0.5)

    async def _results(self, job_id: str) -> dict[int, ItemResult]:
        raw = await self.redis.hgetall(k.results_key(job_id))
        return await _off_loop(len(raw), _parse_results, raw)

    # -- reading jobs -----------------------------------------------------------------------------------

    async def get(self, job_id: str, owner: str) -> JobView:
        with _redis_errors():
            return await self._get(job_id, owner)

    async def _get(self, job_id: str, owner: str) -> JobView:
        record = await self.redis.hgetall(k.job_key(job_id))
        if not record or record.get("owner") != owner or record.get("kind") != "job":
            raise NotFound(f"no job {job_id!r}")
        total = int(record["total"])
        done = await self.redis.hlen(k.results_key(job_id))
        results = None
        if done >= total:
            found = await self._results(job_id)
            results = [found[i] for i in range(total)]
        return JobView(job_id, state_of(done, total), total, done, float(record["created"]),
                       float(record["expires"]), results)

    # -- operations -------------------------------------------------------------------------------------

    async def depth(self) -> int:
        """Chunks waiting or in flight (new, and handed back by stopping workers)."""
        streams = await all_streams(self.redis)
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in streams:
                pipe.xlen(stream)
            return sum(await pipe.execute())

    async def count_workers(self) -> int:
        """Workers that sent a heartbeat within ``heartbeat_s`` (and forget the others). A stopping worker
        removes itself at once; a dead one drops out within ``heartbeat_s``."""
        stale = time.time() - self.settings.heartbeat_s
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(k.WORKERS, "-inf", stale)
            pipe.zcard(k.WORKERS)
            _, self.workers_alive = await pipe.execute()
        return self.workers_alive

    async def snapshot(self) -> dict[str, Any]:
        """Counters and gauges for /metrics."""
        streams = await all_streams(self.redis)
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in streams:
                pipe.xlen(stream)
                pipe.xpending(stream, k.GROUP)
            pipe.hgetall(k.STATS)
            *per_stream, stats = await pipe.execute()
        depth = sum(per_stream[0::2])
        pending = sum(p["pending"] for p in per_stream[1::2])
        return {"counters": {f: int(v) for f, v in stats.items()}, "queue_depth": depth,
                "queue_pending": pending, "workers_alive": await self.count_workers()}

    async def ready(self) -> dict[str, Any]:
        """Redis answers, a worker is alive, and the live workers' sandbox runs code (as each reports it:
        the API's own sandbox does not matter here, the workers grade)."""
        try:
            await self.redis.ping()
            workers = await self.count_workers()
            names = await self.redis.zrange(k.WORKERS, 0, -1)
            reports = [json.loads(r) for r in await self.redis.hmget(k.SANDBOXES, names) if r] if names else []
            pools = await self.pools()
        except (*REDIS_DOWN, OSError) as exc:
            return {"redis": f"unreachable: {type(exc).__name__}", "ok": False}
        facts = _sandbox_of(reports)
        return {"redis": "ok", "workers": workers, **facts, "pools": pools,
                "ok": workers > 0 and facts["sandbox"] != "unavailable"}

    def describe(self) -> dict[str, Any]:
        return {"queue": "redis", "workers": self.workers_alive}

    async def count(self, key: str, ttl_s: int) -> int:
        """:class:`~reward_service.queue.base.SharedCounters`: every API replica counts in the same Redis."""
        with _redis_errors():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, ttl_s)
                count, _ = await pipe.execute()
        return int(count)

    async def aclose(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        await self.redis.aclose()


def _sandbox_of(reports: list[dict[str, str]]) -> dict[str, str]:
    """The fleet's sandbox: ok when some live worker's runs code, disabled when all have it off."""
    for state in ("ok", "unavailable", "disabled"):
        report = next((r for r in reports if r.get("sandbox") == state), None)
        if report is not None:
            return report
    return {"sandbox": "unknown", "sandbox_detail": "no live worker has reported its sandbox yet"}


async def _off_loop(items: int, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a thread when it handles more than a few hundred items, else here."""
    return await asyncio.to_thread(fn, *args) if items > _OFF_LOOP else fn(*args)


def _parse_results(raw: dict[str, str]) -> dict[int, ItemResult]:
    return {int(i): ItemResult.model_validate_json(r) for i, r in raw.items()}
