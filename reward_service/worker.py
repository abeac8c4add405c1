"""A Redis queue worker: ``python -m reward_service worker --redis-url URL``. Run any number, on any hosts.

A worker claims chunks (stream entries) only while it can start their items now (see
:mod:`~reward_service.queue.lanes`), grades each item in a lane with the same
:class:`~reward_service.engine.GradingEngine` as the embedded queue (shared Redis result cache in front), and
writes the answers every few milliseconds (HSETNX: first answer wins); a chunk is acknowledged once all of
its items are answered. What it writes, and why in that order: :mod:`~reward_service.queue.entries`.

**Charging.** Claiming a chunk charges each of its unanswered items an attempt. An item charged
``max_deliveries - 1`` times (its workers kept dying while they held it) is a suspect: it runs alone, charged
just before it starts, so that a crash then is its own; one charged ``max_deliveries`` times is answered
``error``. Everything else, a taken-over chunk included, is graded side by side.

**Stopping** (SIGTERM): the worker leaves the live count and stops claiming at once, hands back every item
it has not started -- charges taken back -- onto ``reward:handback``, which all workers read first, keeps
heartbeating while its graders finish what they started (for up to ``code_item_timeout_s +
shutdown_margin_s``), then hands back anything left and deletes its consumer from the group. A rolling
deploy therefore costs no attempt and no regrade.

**Model pools.** A worker started with ``--models`` (REWARD_REWARD_MODELS: a GPU box, say) loads them before
it starts and belongs to the pool of exactly those models: it reads that pool's streams first, then the
general ones (rule-only chunks go anywhere). The API sends a chunk whose recipe names reward models to a pool
whose live workers serve them all (:meth:`~reward_service.queue.redis_queue.RedisQueue.stream_for`).

**Dying** (SIGKILL, OOM): heartbeats stop; after ``visibility_timeout_s`` any worker with a free lane takes
the entries over with XAUTOCLAIM and grades their unanswered items side by side (only suspects alone).

**Tool calls** (``/run_code``, ``/run_jupyter``, ``/sessions``): a worker with a sandbox also runs a tool host
(:mod:`~reward_service.tools.host`) that serves the calls the API routes to it; on SIGTERM it drains beside the
graders (its sessions close, their next calls answer 410).

**Cells** (several Redis servers, :mod:`~reward_service.queue.cells`): a worker grades for one cell
(``REWARD_WORKER_SHARD``, else a hash of its name), everything above within that cell's Redis; its tool host
registers in cell 0, where the API routes tool calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
import uuid
import zlib
from concurrent.futures import Future
from typing import Any

from pydantic import ValidationError

from reward_service import constants as k
from reward_service import pool, recipes
from reward_service.engine import GradingEngine, result_cache_key
from reward_service.errors import UnknownRecipe
from reward_service.grading.code import sandbox_readiness
from reward_service.queue.chunks import REDIS_DOWN, Chunk, connect, ensure_group, failed
from reward_service.queue.entries import Answer, Entries, Held
from reward_service.queue.lanes import Lanes, Work
from reward_service.reward_model import RewardModels
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings
from reward_service.tools.host import ToolHost

log = logging.getLogger(__name__)

SANDBOX_REPORT_S = 30.0  # how often a worker re-checks its sandbox for /readyz (Docker restarted, say)


class Worker:
    def __init__(self, client: Any, engine: GradingEngine, settings: Settings, name: str | None = None,
                 registry: Any = None) -> None:
        self.redis = client
        self.engine = engine
        self.settings = settings
        self.name = name or worker_name()
        # A worker serving reward models reads its pool's streams first, then the general ones.
        self.pool = k.pool_of(engine.models.names())
        self.streams = (*k.pool_streams(self.pool), *k.STREAMS) if self.pool else k.STREAMS
        self.entries = Entries(client, settings, self.name, self.streams)
        self.lanes = Lanes({"graders": 2 * settings.workers, "code": settings.code_workers})
        self._current: dict[asyncio.Task[None], tuple[Work, list[Future[Any]]]] = {}  # lane -> its item, jobs
        self.stopping = False
        self._cursors = dict.fromkeys(self.streams, "0-0")
        self._next_reclaim = 0.0
        self._next_sweep = time.monotonic() + 60
        # Tool calls (/run_code, /sessions) routed here by the API; none without a sandbox.
        tools = registry or client  # cell 0, with cells
        self.tool_host = ToolHost(tools, settings, self.name) if settings.sandbox_backend != "none" else None

    # -- life cycle ---------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.entries.retrying(lambda: ensure_group(self.redis, self.streams), what="create the consumer group")
        if self.pool:
            await self.entries.retrying(lambda: self.redis.sadd(k.POOLS, self.pool), what="register the pool")
        await self._report_sandbox()  # before the first heartbeat: /readyz never counts us without it
        log.info("worker %s reading %s (group %s)", self.name, ", ".join(self.streams), k.GROUP)
        stopped_beating = asyncio.Event()
        heartbeats = asyncio.create_task(self._heartbeats(stopped_beating))
        writer = asyncio.create_task(self.entries.writer())
        lanes = [asyncio.create_task(self._lane(kind)) for kind, n in self.lanes.sizes.items() for _ in range(n)]
        tools = asyncio.create_task(self.tool_host.run(stop)) if self.tool_host else None  # drains on stop too
        try:
            await self._claim_until(stop)
        finally:
            stop.set()  # the tool host drains beside the graders
            try:
                await self._drain(lanes)
                if tools is not None:
                    await tools
            finally:
                writer.cancel()
                stopped_beating.set()
                await heartbeats
                await self.entries.leave()
                log.info("worker %s stopped", self.name)

    async def _claim_until(self, stop: asyncio.Event) -> None:
        stopped = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                if not self.lanes.has_room():
                    await self.lanes.wait_for_room(timeout=0.5)
                    continue
                read = asyncio.create_task(self._read())
                await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():  # SIGTERM: stop reading at once (an entry read meanwhile is a stray)
                    read.cancel()
                try:
                    for stream, entry_id, fields in await read:
                        await self._intake(stream, entry_id, fields)
                except asyncio.CancelledError:
                    pass
                except REDIS_DOWN as exc:
                    log.warning("worker %s: Redis unreachable (%s); retrying", self.name, exc)
                    await asyncio.sleep(1.0)
                except Exception:
                    log.exception("worker %s: claiming failed; retrying", self.name)
                    await asyncio.sleep(1.0)
        finally:
            stopped.cancel()

    async def _drain(self, lanes: list[asyncio.Task[None]]) -> None:
        """Stop: leave the live count, hand back what has not started, let the lanes finish the rest (up to
        the code item limit plus a margin), hand back whatever is left after that."""
        started = time.monotonic()
        self.stopping = True
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.zrem(k.WORKERS, self.name)
        unstarted = self.lanes.drain()
        for task, (work, jobs) in list(self._current.items()):
            if not any(job.running() or job.done() for job in jobs):  # queued at the pool, not at a grader
                task.cancel()
                unstarted.append(work)
        await asyncio.sleep(0)  # let the cancelled lanes unwind
        by_entry: dict[int, tuple[Held, list[Work]]] = {}
        for work in unstarted:
            by_entry.setdefault(id(work.held), (work.held, []))[1].append(work)
        for held, works in by_entry.values():
            await self.entries.hand_back(held, [w.index for w in works], [w.index for w in works if w.charged])
        limit = self.settings.code_item_timeout_s + self.settings.shutdown_margin_s
        _, late = await asyncio.wait(lanes, timeout=limit) if lanes else (set(), set())
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.entries.flush(), timeout=70)
        for held in list(self.entries.held.values()):  # only when lanes ran past the limit
            await self.entries.hand_back(held, sorted(held.left))
        await self.entries.hand_back_strays()
        log.info("worker %s stopping: finished its items in %.1f s; handed back %d chunk(s)", self.name,
                 time.monotonic() - started, self.entries.handed_back)

    async def _report_sandbox(self) -> None:
        """Tell /readyz whether this worker's sandbox runs code (the API's own may not: in compose it has
        no Docker socket)."""
        facts = await asyncio.to_thread(sandbox_readiness, self.settings.sandbox_backend,
                                        self.settings.sandbox_bwrap_rlimits_only)
        with contextlib.suppress(*REDIS_DOWN):
            await self.redis.hset(k.SANDBOXES, self.name, json.dumps({**facts, "models": self.engine.models.names(),
                                                                      "at": time.time()}))

    async def _heartbeats(self, stopped: asyncio.Event) -> None:
        period = min(self.settings.heartbeat_s / 2, self.settings.visibility_timeout_s / 3)
        next_report = time.monotonic() + SANDBOX_REPORT_S
        while not stopped.is_set():
            try:
                if time.monotonic() >= next_report:
                    next_report = time.monotonic() + SANDBOX_REPORT_S
                    await self._report_sandbox()
                await self.entries.heartbeat(alive=not self.stopping)
            except REDIS_DOWN:
                pass  # the claim loop reports it
            except Exception:
                log.exception("worker %s: heartbeat failed", self.name)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopped.wait(), timeout=period)

    # -- claiming ----------------------------------------------------------------------------------------

    async def _read(self) -> list[tuple[str, str, dict[str, str] | None]]:
        """One entry of a dead worker if there is one, else one new entry (handed-back work first)."""
        now = time.monotonic()
        if now >= self._next_reclaim:
            self._next_reclaim = now + min(1.0, self.settings.visibility_timeout_s / 2)
            if now >= self._next_sweep:
                self._next_sweep = now + 60
                await self.entries.forget_dead_consumers()
            for stream in self.streams:
                reply = await self.redis.xautoclaim(stream, k.GROUP, self.name, count=1,
                                                    min_idle_time=int(self.settings.visibility_timeout_s * 1000),
                                                    start_id=self._cursors[stream])
                self._cursors[stream], claimed = reply[0], reply[1]
                if claimed:
                    for entry_id, _ in claimed:
                        log.warning("worker %s: took over chunk %s from a worker that stopped", self.name, entry_id)
                    return [(stream, entry_id, fields) for entry_id, fields in claimed]
        reply = await self.redis.xreadgroup(k.GROUP, self.name, dict.fromkeys(self.streams, ">"), count=1, block=500)
        return [(stream, entry_id, fields)
                for stream, entries in (reply.items() if isinstance(reply, dict) else reply or [])
                for entry_id, fields in entries]

    async def _intake(self, stream: str, entry_id: str, fields: dict[str, str] | None) -> None:
        """Charge the entry's unanswered items; answer what needs no grader (cached, not an item); queue the
        rest for the lanes (a suspect to run alone)."""
        try:
            chunk = Chunk.from_fields(fields or {})
        except (KeyError, ValueError) as exc:
            log.error("worker %s: dropping malformed entry %s: %s", self.name, entry_id, exc)
            await self.entries.ack(stream, entry_id)
            return
        held = Held(stream, entry_id, chunk, set())
        self.entries.held[held.key] = held  # heartbeats keep it ours from here on
        try:
            works = await self._charge(held)
        except BaseException:  # not ours after all: another worker takes it over after the visibility timeout
            self.entries.held.pop(held.key, None)
            raise
        if not held.left:
            await self.entries.acknowledge(held)
            return
        hits = await self._from_cache(works)
        for answer in hits:
            self.entries.answer(held, answer)
        cached = {answer[0] for answer in hits}
        self.lanes.add([work for work in works if work.index not in cached])

    async def _charge(self, held: Held) -> list[Work]:
        chunk = held.chunk
        indexed = chunk.indexed()
        charges = await self.entries.intake(chunk, [i for i, _ in indexed])
        if charges is None:  # expired, or /score gave up on it
            return []
        recipe = _resolved(chunk.recipe)
        works: list[Work] = []
        for (index, row), charge in zip(indexed, charges, strict=True):
            if charge == 0:
                continue  # answered already
            held.left.add(index)
            try:
                item = ScoreItem.model_validate(row)
            except ValidationError as exc:
                self.entries.answer(held, (index, None, failed(row, f"not a valid item: {exc.error_count()} "
                                                                   "error(s)"), None))
                continue
            if isinstance(recipe, str):  # why this worker cannot grade the chunk's recipe
                self.entries.answer(held, (index, item, failed(row, recipe), None))
                continue
            key = k.cache_key(result_cache_key(item, recipe)) if self.settings.shared_cache_ttl_s else None
            works.append(Work(held, index, item, recipe, key, tries=abs(charge) - (charge < 0), suspect=charge < 0,
                              charged=charge > 0))
        return works

    async def _from_cache(self, works: list[Work]) -> list[Answer]:
        if not self.settings.shared_cache_ttl_s or not works:
            return []
        try:
            found = await self.redis.mget([w.cache_key or "" for w in works])
        except REDIS_DOWN:
            return []  # the cache only saves work
        hits: list[Answer] = []
        for work, raw in zip(works, found, strict=True):
            if raw is not None:
                cached = ItemResult.model_validate_json(raw)
                update = {"id": work.item.id, "details": {**cached.details, "cached": True}}
                hits.append((work.index, work.item, cached.model_copy(update=update), None))
        return hits

    # -- grading -----------------------------------------------------------------------------------------

    async def _lane(self, kind: str) -> None:
        """Grade items one after another; answers go to the writer, so the lane never waits on Redis (a
        suspect's charge excepted)."""
        me = asyncio.current_task()
        assert me is not None
        while (work := await self.lanes.take(kind)) is not None:
            jobs: list[Future[Any]] = []
            self._current[me] = (work, jobs)
            seen = pool.submitted.set(jobs)  # the drain tells an item queued at the pool from a started one
            try:
                tries = work.tries
                if work.suspect:
                    tries, work.charged = await self.entries.charge(work), True
                answer = (work.index, work.item, await self._grade(work, tries), work.cache_key)
                self.entries.answer(work.held, answer)
            except Exception:  # Redis down too long (or a bug): no heartbeat, so another worker takes it over
                log.exception("worker %s: could not charge item %d; leaving its chunk", self.name, work.index)
                self.entries.held.pop(work.held.key, None)
            finally:
                pool.submitted.reset(seen)
                del self._current[me]
                self.lanes.done(work)

    async def _grade(self, work: Work, tries: int) -> ItemResult:
        if tries > self.settings.max_deliveries:
            log.error("worker %s: item %d of job %s was held by %d workers that died; answering error",
                      self.name, work.index, work.held.chunk.job, tries - 1)
            return failed(work.item.model_dump(), f"grading this item stopped the worker {tries - 1} times")
        try:
            return await self.engine.score_one(work.item, work.recipe, caller=work.owner)
        except Exception as exc:  # a bug, not a crash: answer rather than redeliver forever
            log.exception("worker %s: item %d of job %s failed", self.name, work.index, work.held.chunk.job)
            return failed(work.item.model_dump(), f"worker error: {exc!r}")


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def home_cell(settings: Settings, name: str) -> int:
    """The cell this worker grades for: ``worker_shard``, else a hash of its name over the cells."""
    cells = len(settings.redis_cells())
    return settings.worker_shard if settings.worker_shard is not None else zlib.crc32(name.encode()) % cells


def _resolved(key: str) -> recipes.Recipe | str:
    """A chunk's recipe, resolved against this worker's registry (once per key), or why it cannot be: a
    component module or option this worker lacks fails the chunk's items, never the worker's loop."""
    try:
        return recipes.from_key(key)
    except UnknownRecipe as exc:
        return f"this worker cannot grade the recipe: {exc}"


async def run_worker(settings: Settings, models: RewardModels | None = None) -> None:
    """Start the grader pool, then work until SIGTERM/SIGINT (see the module docstring for how it stops)."""
    # Lanes share the graders fairly by owner; a per-key cap at the pool would hold the lanes of a capped
    # key's items, and with them the claiming of every other key's chunks behind them in the stream.
    engine = GradingEngine(settings.model_copy(update={"per_key_concurrency": 0}), models)
    await engine.start()
    name = worker_name()
    cell = home_cell(settings, name)
    client = connect(settings, settings.redis_cells()[cell])
    registry = connect(settings) if cell else client
    if settings.redis_shard_urls:
        log.info("worker %s grades for Redis cell %d of %d", name, cell, len(settings.redis_cells()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Worker(client, engine, settings, name, registry).run(stop)
    finally:
        await engine.aclose()
        await client.aclose()
        if registry is not client:
            await registry.aclose()
