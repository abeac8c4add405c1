"""The Redis queue over several Redis servers: cells, each a whole queue of its own, the API the router.

One Redis coordinates ~12,000 items/s (bench/README.md, ``redis_scaling.py``): a dozen cores of math graders.
Past that the queue runs as S *cells* (``REWARD_REDIS_URL`` is cell 0, ``REWARD_REDIS_SHARD_URLS`` the
others): a cell is one Redis with its streams, its jobs and the workers that grade for it
(``REWARD_WORKER_SHARD``), exactly the single-Redis queue (:class:`RedisQueue`), so every script, hand-off and
take-over stays within one server. The API puts a whole job on one cell — among the cells with a live
worker, the one with the fewest chunks waiting per worker — and names the cell in the job id (``c<cell>-<hex>``)
so that any API replica reads it back from there. A cell that is down costs its own jobs (503 while it is
down, as a single Redis would, also when the API starts meanwhile) and nothing else: new work goes to the
others. Cell 0 also holds what is not per job: the tool hosts, the rate counters and the idempotency keys, so
it is the one cell the API needs at start.

Why cells and not Redis Cluster: the same code runs on self-run servers and on any managed Redis, one cell's
fault is contained, and no key needs a hash tag. What cells do not do: a worker reads only its own cell, so
balance comes from where the API puts each job (least loaded per worker) rather than from stealing;
``/metrics`` sums every cell.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import uuid
from typing import Any

from reward_service.errors import GraderUnavailable, NotFound
from reward_service.queue.chunks import REDIS_DOWN
from reward_service.queue.fair import ANONYMOUS
from reward_service.queue.jobs import JobView
from reward_service.queue.redis_queue import RedisQueue, _redis_errors
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings

__all__ = ["CellQueue", "cell_of"]

log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"c(\d{1,4})-[0-9a-f]{32}")


def cell_of(job_id: str, cells: int) -> int | None:
    """The cell a job id names (a bare id, from before there were cells, is cell 0), or None."""
    if re.fullmatch(r"[0-9a-f]{32}", job_id):
        return 0
    found = _JOB_ID.fullmatch(job_id)
    return int(found.group(1)) if found and int(found.group(1)) < cells else None


class CellQueue:
    """A :class:`~reward_service.queue.base.GradingBackend` and :class:`~reward_service.queue.jobs.JobStore`
    over :class:`RedisQueue` cells."""

    def __init__(self, cells: list[RedisQueue], settings: Settings) -> None:
        self.cells, self.settings = cells, settings

    @classmethod
    async def connect(cls, settings: Settings) -> CellQueue:
        """Every cell; cell 0 must answer (it holds the counters every request needs), another that does not
        is started as down, so that an API restarting while a cell is down still serves the others."""
        cells: list[RedisQueue] = []
        try:
            for i, url in enumerate(settings.redis_cells()):
                one = settings.model_copy(update={"redis_url": url, "redis_shard_urls": None})
                try:
                    cells.append(await RedisQueue.connect(one))
                except REDIS_DOWN as exc:
                    if i == 0:
                        raise
                    log.warning("Redis cell %d does not answer (%s): its jobs get 503 until it does", i, exc)
                    cells.append(RedisQueue.unreachable(one))
        except BaseException:
            for cell in cells:
                await cell.aclose()
            raise
        return cls(cells, settings)

    @property
    def redis(self) -> Any:
        """Cell 0's client: the tool hosts register there."""
        return self.cells[0].redis

    async def _ranked(self) -> list[int]:
        """Cells, best first: those with a live worker by chunks waiting per worker (ties in random order, so
        that an idle fleet spreads too), then the others; a cell that does not answer is left out."""
        async def load(i: int) -> tuple[int, float, float, int] | None:
            try:
                depth, workers = await self.cells[i].depth(), await self.cells[i].count_workers()
            except REDIS_DOWN:
                return None
            return (0 if workers else 1, depth / max(workers, 1), random.random(), i)  # ties: any of them
        loads = await asyncio.gather(*(load(i) for i in range(len(self.cells))))
        ranked = [entry[3] for entry in sorted(x for x in loads if x is not None)]
        if not ranked:
            raise GraderUnavailable("queue unavailable: no Redis cell answers")
        return ranked

    async def _on_best(self, attempt: Any) -> Any:
        """``attempt(cell index)`` on the best cell; on the next one where that cell cannot take the work
        (no worker serving its reward models, Redis gone meanwhile)."""
        last: Exception | None = None
        for i in await self._ranked():
            try:
                with _redis_errors():
                    return await attempt(i)
            except GraderUnavailable as exc:
                last = exc
        assert last is not None
        raise last

    async def submit(self, items: list[ScoreItem], recipe: Recipe, owner: str,
                     idempotency_key: str | None = None) -> str:
        async def on(i: int) -> str:
            job_id = f"c{i}-{uuid.uuid4().hex}"
            return await self.cells[i].submit_as(job_id, items, recipe, owner, idempotency_key,
                                                 registry=self.cells[0].redis)
        return str(await self._on_best(on))

    async def score(self, items: list[ScoreItem], recipe: Recipe, *, caller: str = ANONYMOUS) -> list[ItemResult]:
        if not items:
            return []
        return list(await self._on_best(lambda i: self.cells[i].score(items, recipe, caller=caller)))

    async def get(self, job_id: str, owner: str) -> JobView:
        i = cell_of(job_id, len(self.cells))
        if i is None:
            raise NotFound(f"no job {job_id!r}")
        return await self.cells[i].get(job_id, owner)

    async def depth(self) -> int:
        return sum(await asyncio.gather(*(cell.depth() for cell in self.cells)))

    async def snapshot(self) -> dict[str, Any]:
        """Every cell's counters and gauges, summed (a cell that does not answer counts nothing)."""
        found = await asyncio.gather(*(cell.snapshot() for cell in self.cells), return_exceptions=True)
        out: dict[str, Any] = {"counters": {}, "queue_depth": 0, "queue_pending": 0, "workers_alive": 0,
                               "redis_cells_down": 0}
        for snap in found:
            if isinstance(snap, BaseException):
                out["redis_cells_down"] += 1
                continue
            for name, value in snap["counters"].items():
                out["counters"][name] = out["counters"].get(name, 0) + value
            for gauge in ("queue_depth", "queue_pending", "workers_alive"):
                out[gauge] += snap[gauge]
        return out

    async def ready(self) -> dict[str, Any]:
        """Ready when every cell's Redis answers and has a live worker whose sandbox runs code."""
        cells = await asyncio.gather(*(cell.ready() for cell in self.cells))
        return {"redis": "ok" if all(c["redis"] == "ok" for c in cells) else "a cell is unreachable",
                "workers": sum(c.get("workers", 0) for c in cells), "cells": cells,
                "ok": all(c["ok"] for c in cells)}

    def describe(self) -> dict[str, Any]:
        return {"queue": "redis", "cells": len(self.cells), "workers": sum(c.workers_alive for c in self.cells)}

    async def count(self, key: str, ttl_s: int) -> int:
        return await self.cells[0].count(key, ttl_s)

    async def aclose(self) -> None:
        for cell in self.cells:
            await cell.aclose()
