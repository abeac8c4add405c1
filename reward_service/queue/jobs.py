"""Async jobs (``POST /jobs``, ``GET /jobs/{id}``): the store Protocol, and the embedded implementation.

The Redis queue stores jobs in Redis (they outlive an API restart); the embedded one keeps them in this
process's memory until their TTL, grading with the same engine as ``/score``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal, Protocol

from reward_service.errors import NotFound
from reward_service.queue.base import GradingBackend
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem, Status

JobState = Literal["queued", "running", "done"]


@dataclass(frozen=True)
class JobView:
    id: str
    state: JobState
    total: int
    done: int
    created: float
    expires: float
    results: list[ItemResult] | None = None  # when done


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
    """Jobs of the embedded queue: one asyncio task each, results kept in memory until the TTL."""

    def __init__(self, backend: GradingBackend, ttl_s: float) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self._jobs: dict[str, _Job] = {}
        self._by_key: dict[tuple[str, str], str] = {}

    async def submit(self, items: list[ScoreItem], recipe: Recipe, owner: str,
                     idempotency_key: str | None = None) -> str:
        self._expire()
        if idempotency_key is not None and (owner, hash_key(idempotency_key)) in self._by_key:
            return self._by_key[(owner, hash_key(idempotency_key))]
        job_id = uuid.uuid4().hex
        now = time.time()
        job = _Job(owner, len(items), now, now + self.ttl_s)
        job.task = asyncio.create_task(self.backend.score(items, recipe), name=f"job-{job_id}")
        job.task.add_done_callback(lambda t: self._finish(job, items, t))
        if idempotency_key is not None:
            job.idempotency = hash_key(idempotency_key)
            self._by_key[(owner, job.idempotency)] = job_id
        self._jobs[job_id] = job
        return job_id

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
        self._expire()
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"no job {job_id!r}")
        return JobView(job_id, state_of(job.done, job.total), job.total, job.done, job.created, job.expires,
                       job.results)

    def _expire(self) -> None:
        now = time.time()
        for job_id in [j for j, job in self._jobs.items() if job.expires < now]:
            job = self._jobs.pop(job_id)
            if job.task is not None:
                job.task.cancel()
            if job.idempotency is not None:
                self._by_key.pop((job.owner, job.idempotency), None)
