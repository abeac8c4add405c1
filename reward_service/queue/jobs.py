"""Async jobs (``POST /jobs``, ``GET /jobs/{id}``): the store Protocol, and the embedded implementation.

The Redis queue stores jobs in Redis (they outlive an API restart); the embedded one keeps them in this
process's memory until their TTL, grading with the same engine as ``/score``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from reward_service.errors import NotFound, Overloaded
from reward_service.queue.base import GradingBackend
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem, Status

JobState = Literal["queued", "running", "done"]
PROGRESS_SLICE = 32  # the embedded queue grades a job in slices of this many items, counting each as it ends


@dataclass(frozen=True)
class JobView:
    id: str
    state: JobState
    total: int
    done: int
    created: float
    expires: float
    results: list[ItemResult] | None = None  # when done


@runtime_checkable
class JobStore(Protocol):
    async def submit(self, items: list[ScoreItem], recipe: Recipe, owner: str,
                     idempotency_key: str | None = None) -> str:
        """A new job's id (or the id an earlier call with the same owner and key made). May raise Overloaded."""
        ...

    async def get(self, job_id: str, owner: str) -> JobView:
        """Raises NotFound for an unknown or expired job, and for another owner's."""
        ...


def state_of(done: int, total: int) -> JobState:
    return "done" if done >= total else "running" if done else "queued"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class _Job:
    owner: str
    total: int
    created: float
    expires: float
    task: asyncio.Task[list[ItemResult]] | None = None
    results: list[ItemResult] | None = None
    idempotency: str | None = None
    done: int = field(default=0)


class MemoryJobs:
    """Jobs of the embedded queue: one asyncio task each, results kept in memory until the TTL.

    Bounded: at most ``max_items`` items are held at once, and at most ``key_share`` of them by one owner (an
    API key), so one key cannot fill it for the others (new jobs past either get 429 until old ones expire;
    finished results are never dropped early); every job is swept at its expiry by a timer, not only when
    someone next calls the store."""

    def __init__(self, backend: GradingBackend, ttl_s: float, max_items: int = 500_000,
                 key_share: float = 1.0) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self.max_items = max_items
        self.per_key = max(1, int(max_items * key_share))
        self.held_items = 0
        self._held_by: Counter[str] = Counter()  # items held, per owner
        self._jobs: dict[str, _Job] = {}
        self._by_key: dict[tuple[str, str], str] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    async def submit(self, items: list[ScoreItem], recipe: Recipe, owner: str,
                     idempotency_key: str | None = None) -> str:
        self.sweep()
        if idempotency_key is not None and (owner, hash_key(idempotency_key)) in self._by_key:
            return self._by_key[(owner, hash_key(idempotency_key))]
        self._check_room(owner, len(items))
        job_id = uuid.uuid4().hex
        now = time.time()
        job = _Job(owner, len(items), now, now + self.ttl_s)
        job.task = asyncio.create_task(self._grade(job, items, recipe), name=f"job-{job_id}")
        job.task.add_done_callback(lambda t: self._finish(job, items, t))
        if idempotency_key is not None:
            job.idempotency = hash_key(idempotency_key)
            self._by_key[(owner, job.idempotency)] = job_id
        self._jobs[job_id] = job
        self.held_items += job.total
        self._held_by[owner] += job.total
        asyncio.get_running_loop().call_later(self.ttl_s + 0.01, self.sweep)
        return job_id

    def _check_room(self, owner: str, n: int) -> None:
        """429 when ``n`` more items would pass the owner's share or the store's limit."""
        if self._held_by[owner] + n > self.per_key:
            raise Overloaded(f"jobs of this API key hold {self._held_by[owner]} items in memory (its share: "
                             f"{self.per_key} of {self.max_items}) until they expire; retry later",
                             retry_after=self._retry_after(owner))
        if self.held_items + n > self.max_items:
            raise Overloaded(f"jobs in memory hold {self.held_items} items (limit {self.max_items}) until they "
                             "expire; retry later, or use the Redis queue for more", retry_after=self._retry_after())

    def _retry_after(self, owner: str | None = None) -> float:
        """Seconds until the first job (of ``owner``, or of anyone) expires, within 1 to 60."""
        jobs = [job for job in self._jobs.values() if owner is None or job.owner == owner]
        oldest = min((job.expires for job in jobs), default=time.time())
        return max(1.0, min(60.0, oldest - time.time()))

    async def _grade(self, job: _Job, items: list[ScoreItem], recipe: Recipe) -> list[ItemResult]:
        """All slices at once (the engine still sees every item concurrently); ``done`` grows as each ends."""
        async def part(start: int) -> list[ItemResult]:
            results = await self.backend.score(items[start:start + PROGRESS_SLICE], recipe, caller=job.owner)
            job.done += len(results)
            return results
        parts = await asyncio.gather(*(part(start) for start in range(0, len(items), PROGRESS_SLICE)))
        return [result for part_results in parts for result in part_results]

    @staticmethod
    def _finish(job: _Job, items: list[ScoreItem], task: asyncio.Task[list[ItemResult]]) -> None:
        if task.cancelled():
            return
        if task.exception() is None:
            job.results = task.result()
        else:  # the backend never raises for an item; if it failed as a whole, every item says so
            reason = f"grading failed: {task.exception()!r}"
            job.results = [ItemResult(id=i.id, reward=None, status=Status.error, error=reason) for i in items]
        job.done = job.total

    async def get(self, job_id: str, owner: str) -> JobView:
        self.sweep()
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"no job {job_id!r}")
        return JobView(job_id, state_of(job.done, job.total), job.total, job.done, job.created, job.expires,
                       job.results)

    def sweep(self) -> None:
        """Forget expired jobs (cancelling any still grading) and their idempotency keys."""
        now = time.time()
        for job_id in [j for j, job in self._jobs.items() if job.expires <= now]:
            job = self._jobs.pop(job_id)
            self.held_items -= job.total
            self._held_by[job.owner] -= job.total
            if not self._held_by[job.owner]:
                del self._held_by[job.owner]
            if job.task is not None:
                job.task.cancel()
            if job.idempotency is not None:
                self._by_key.pop((job.owner, job.idempotency), None)
