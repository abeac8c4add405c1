"""A worker's side of the stream entries it holds: charges, answers, acknowledgement, heartbeats, hand-back.

Every write a worker makes about its entries is here, so that the invariants read in one place:

* **charges**: claiming an entry charges each of its unanswered items one attempt (one script call, which
  also says which items are answered already). An item already charged ``max_deliveries - 1`` times is a
  suspect: it is not charged then, but just before it runs alone. A charge is a "held by a worker that
  may die with it"; a stopping worker takes back the charges of what it hands back unstarted.
* **answers** are buffered for a few milliseconds and written together (HSETNX: first answer wins), so a
  busy worker makes a few hundred writes a second, not one per item; the write that completes an entry
  pushes a token that wakes the API waiting on the job (the last answer of a job always completes one);
* an entry is acknowledged (XACK + XDEL) only after every item it owes is answered;
* **hand-back**: a stopping worker puts unstarted items back as a new entry on ``reward:handback`` (a model
  pool's chunks on the pool's own; XADD, the charges taken back, and XACK + XDEL of the old entry when
  nothing of it is still running, in one MULTI). Redis cannot XCLAIM an entry to nobody, and leaving it pending would cost every item a visibility
  timeout and, taken over, an attempt; a fresh entry is read at once by any free worker, and handed-back
  work is read before new work;
* a consumer is deleted only when nothing is pending under it (DELCONSUMER drops its pending entries).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.exceptions

from reward_service import constants as k
from reward_service.queue.chunks import REDIS_DOWN, WRITE_RESULTS, Chunk, item_fields
from reward_service.queue.lanes import Work
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.settings import Settings

log = logging.getLogger("reward_service.worker")

T = TypeVar("T")
Answer = tuple[int, ScoreItem | None, ItemResult, str | None]  # (index, item if it parsed, result, cache key)
LINGER_S = 0.005  # answers wait this long for company before they are written

# KEYS: job, results, attempts. ARGV: expires-at, suspect threshold, then item indices.
# nil if the job is gone; else per index: 0 answered already, n > 0 charged now (its n-th attempt),
# -(n + 1) a suspect with n attempts so far (not charged here).
INTAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local out, from = {}, tonumber(ARGV[2])
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    out[#out + 1] = 0
  else
    local n = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '0')
    if n >= from then out[#out + 1] = -(n + 1) else out[#out + 1] = redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
  end
end
redis.call('EXPIREAT', KEYS[3], ARGV[1])
return out
"""


@dataclass(eq=False)
class Held:
    """A claimed entry, and the indices of the items it still owes an answer for."""

    stream: str
    entry_id: str
    chunk: Chunk
    left: set[int]

    @property
    def key(self) -> tuple[str, str]:
        return self.stream, self.entry_id


class Entries:
    def __init__(self, client: Any, settings: Settings, name: str, streams: tuple[str, ...] = k.STREAMS) -> None:
        self.redis = client
        self.settings = settings
        self.name = name
        self.streams = streams  # the streams this worker reads
        self.held: dict[tuple[str, str], Held] = {}
        self.handed_back = 0
        self._write_sha = hashlib.sha1(WRITE_RESULTS.encode()).hexdigest()
        self._intake_script = client.register_script(INTAKE)
        self._buffer: list[tuple[Held, Answer]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    # -- claiming and charging ----------------------------------------------------------------------------

    async def intake(self, chunk: Chunk, indices: list[int]) -> list[int] | None:
        """Charge the unanswered items of ``chunk`` (see :data:`INTAKE` for what comes back)."""
        keys = [k.job_key(chunk.job), k.results_key(chunk.job), k.attempts_key(chunk.job)]
        suspect_from = self.settings.max_deliveries - 1
        out = await self._intake_script(keys=keys, args=[chunk.expires, suspect_from, *indices])
        return None if out is None else [int(v) for v in out]

    async def charge(self, work: Work) -> int:
        """Charge a suspect just before it runs; returns its attempts counting this one."""
        chunk = work.held.chunk

        async def run() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(k.attempts_key(chunk.job), str(work.index), 1)
                pipe.expireat(k.attempts_key(chunk.job), chunk.expires)
                return await pipe.execute()
        tries, _ = await self.retrying(run, what="charge an attempt")
        return int(tries)

    # -- answers ------------------------------------------------------------------------------------------

    def answer(self, held: Held, answer: Answer) -> None:
        """Queue an answer for the writer (never waits)."""
        self._buffer.append((held, answer))
        self._idle.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every queued answer is written (or given up on)."""
        await self._idle.wait()

    async def writer(self) -> None:
        """Write queued answers, a few milliseconds' worth at a time. Runs until cancelled."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(LINGER_S)
            self._wake.clear()
            batch, self._buffer = self._buffer, []
            try:
                await self.write(batch)
            except Exception:  # a bug: the entries are taken over by another worker and answered there
                log.exception("worker %s: writing %d answers failed", self.name, len(batch))
                for held, _ in batch:
                    self.held.pop(held.key, None)
            if not self._buffer:
                self._idle.set()

    async def write(self, answers: list[tuple[Held, Answer]]) -> None:
        """Write ``answers`` in one round trip; acknowledge the entries they complete. If Redis stays down,
        their entries are dropped from the heartbeat, to be taken over and answered by another worker."""
        if not answers:
            return
        groups: dict[int, tuple[Held, list[Answer]]] = {}
        for held, answer in answers:
            groups.setdefault(id(held), (held, []))[1].append(answer)

        async def run() -> None:
            for first in (True, False):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for held, group in groups.values():
                        completes = not held.left - {answer[0] for answer in group}
                        self._queue_write(pipe, held.chunk, group, notify=completes)
                    try:
                        await pipe.execute()
                        return
                    except redis.exceptions.NoScriptError:  # a fresh or restarted Redis: load it, write again
                        if not first:
                            raise
                        await self.redis.script_load(WRITE_RESULTS)

        try:
            await self.retrying(run, what="write results")
        except REDIS_DOWN:
            for held, _ in groups.values():
                self.held.pop(held.key, None)
            log.error("worker %s: Redis down too long; leaving its entries to be taken over", self.name)
            return
        for held, group in groups.values():
            held.left -= {answer[0] for answer in group}
            if not held.left:
                await self.acknowledge(held)

    def _queue_write(self, pipe: Any, chunk: Chunk, answers: list[Answer], notify: bool) -> None:
        args: list[Any] = [chunk.expires, int(notify)]
        for index, item, result, _ in answers:
            counted = item_fields(item, result) if item is not None else ["items:unknown:error"]
            args += [index, result.model_dump_json(), " ".join(counted)]
        # EVALSHA itself: a Script object in a pipeline asks SCRIPT EXISTS first, a round trip per write
        pipe.evalsha(self._write_sha, 3, k.results_key(chunk.job), k.STATS, k.notify_key(chunk.job), *args)
        ttl = self.settings.shared_cache_ttl_s
        for _, _, result, cache_key in answers:
            if ttl and cache_key and result.status is Status.ok:
                pipe.set(cache_key, result.model_dump_json(), ex=ttl, nx=True)

    async def acknowledge(self, held: Held) -> None:
        if self.held.pop(held.key, None) is not None:  # once
            await self.ack(held.stream, held.entry_id)

    async def ack(self, stream: str, entry_id: str) -> None:
        async def ack() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(stream, k.GROUP, entry_id)
                pipe.xdel(stream, entry_id)
                await pipe.execute()
        with contextlib.suppress(*REDIS_DOWN):  # not acknowledged: redelivered, and answered from Redis then
            await self.retrying(ack, what="acknowledge")

    # -- stopping -----------------------------------------------------------------------------------------

    async def hand_back(self, held: Held, indices: list[int], uncharge: Sequence[int] = ()) -> None:
        """Put the items at ``indices`` back on the queue, taking back the charges of ``uncharge`` (those
        never started); acknowledge the entry too if nothing else of it is still owed here."""
        if not indices:
            return
        rest = held.left - set(indices)

        async def hand() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xadd(k.handback_of(held.stream), held.chunk.only(indices).to_fields())  # type: ignore[arg-type]
                for index in uncharge:
                    pipe.hincrby(k.attempts_key(held.chunk.job), str(index), -1)
                if not rest:
                    pipe.xack(held.stream, k.GROUP, held.entry_id)
                    pipe.xdel(held.stream, held.entry_id)
                await pipe.execute()
        with contextlib.suppress(*REDIS_DOWN):  # else it stays pending here: taken over after the timeout
            await self.retrying(hand, what="hand back", patience_s=10.0)
            self.handed_back += 1
            held.left = rest
            if not rest:
                self.held.pop(held.key, None)

    async def hand_back_strays(self) -> None:
        """Hand back entries pending under this worker that it never saw (a read cut short by SIGTERM)."""
        with contextlib.suppress(*REDIS_DOWN):
            for stream in self.streams:
                for entry in await self.redis.xpending_range(stream, k.GROUP, "-", "+", 1000,
                                                             consumername=self.name):
                    entry_id = entry["message_id"]
                    if (stream, entry_id) in self.held:
                        continue
                    found = await self.redis.xrange(stream, entry_id, entry_id)
                    async with self.redis.pipeline(transaction=True) as pipe:
                        if found:
                            pipe.xadd(k.handback_of(stream), found[0][1])
                            self.handed_back += 1
                        pipe.xack(stream, k.GROUP, entry_id)
                        pipe.xdel(stream, entry_id)
                        await pipe.execute()

    async def leave(self) -> None:
        """Delete this worker's consumer, once nothing is pending under it (DELCONSUMER would lose it)."""
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.zrem(k.WORKERS, self.name)  # again: a heartbeat in flight at SIGTERM re-added it
            await self.redis.hdel(k.SANDBOXES, self.name)
            for stream in self.streams:
                if await self.redis.xpending_range(stream, k.GROUP, "-", "+", 1, consumername=self.name):
                    log.warning("worker %s: entries still pending under it; its consumer stays", self.name)
                    return
            for stream in self.streams:
                await self.redis.xgroup_delconsumer(stream, k.GROUP, self.name)

    # -- while running ------------------------------------------------------------------------------------

    async def heartbeat(self, alive: bool) -> None:
        """Say we are alive (unless stopping), and reset the idle time of the entries we hold so that nobody
        takes them over."""
        by_stream: dict[str, list[str]] = {}
        for stream, entry_id in list(self.held):
            by_stream.setdefault(stream, []).append(entry_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            if alive:
                pipe.zadd(k.WORKERS, {self.name: time.time()})
            for stream, ids in by_stream.items():
                pipe.xclaim(stream, k.GROUP, self.name, min_idle_time=0, message_ids=ids, justid=True)
            await pipe.execute()

    async def forget_dead_consumers(self) -> None:
        """Delete consumers of workers long gone (SIGKILL leaves them): nothing pending, idle for long; and
        their sandbox reports (a live worker renews its own every 30 s)."""
        reports = await self.redis.hgetall(k.SANDBOXES)
        old = [name for name, raw in reports.items() if json.loads(raw).get("at", 0) < time.time() - 600]
        if old:
            await self.redis.hdel(k.SANDBOXES, *old)
        idle_ms = max(60.0, 10 * self.settings.visibility_timeout_s) * 1000
        for stream in self.streams:
            for consumer in await self.redis.xinfo_consumers(stream, k.GROUP):
                if consumer["pending"] == 0 and consumer["idle"] > idle_ms and consumer["name"] != self.name:
                    await self.redis.xgroup_delconsumer(stream, k.GROUP, consumer["name"])
                    log.info("worker %s: deleted the consumer of a gone worker, %s", self.name, consumer["name"])

    async def retrying(self, fn: Callable[[], Awaitable[T]], what: str, patience_s: float = 60.0) -> T:
        """Ride out a Redis restart (with AOF, nothing is lost meanwhile); give up after ``patience_s``."""
        deadline, delay = time.monotonic() + patience_s, 0.2
        while True:
            try:
                return await fn()
            except REDIS_DOWN as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("worker %s: could not %s (%s); retrying", self.name, what, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
