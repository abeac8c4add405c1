"""The grading engine: per-item limits, caches, coalescing, and dispatch to grader processes.

This is the code every deployment grades with: the embedded in-process queue calls it from the API process,
Redis workers call it on the chunks they claim. Two caches sit in front of the pools:

* the result cache: an item identical in everything that affects its result (minus ``id``) is answered
  from memory;
* the accuracy cache: GRPO groups repeat answers, so a verdict is keyed by (task, final-answer region,
  reference, options). Identical keys in flight at once are graded once; the others wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from reward_service.cache import LRUCache, content_key
from reward_service.grading import extract
from reward_service.grading.types import Verdict
from reward_service.pool import JobFailed, JobTimeout, PoolError, ProcessPool, WorkerCrashed
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.scoring import accuracy_key_parts
from reward_service.settings import Settings

log = logging.getLogger(__name__)


class GradingEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.results = LRUCache(settings.cache_size)
        self.accuracy = LRUCache(settings.cache_size)
        self._in_flight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pool: ProcessPool | None = None
        self._code_pool: ProcessPool | None = None
        self._code_pool_lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the grader processes (forked from a forkserver that has loaded the graders)."""
        self._pool = await asyncio.to_thread(
            ProcessPool, self.settings.workers, memory_limit_mb=self.settings.grader_memory_mb, name="graders")
        if self.settings.sandbox_backend in ("auto", "docker"):
            threading.Thread(target=_prepare_sandbox_image, name="sandbox-image", daemon=True).start()

    async def _code(self) -> ProcessPool:
        async with self._code_pool_lock:  # started on first use: most deployments never grade code
            if self._code_pool is None:
                self._code_pool = await asyncio.to_thread(
                    ProcessPool, self.settings.code_workers, name="code-graders")
        return self._code_pool

    async def score(self, items: list[ScoreItem], recipe: Recipe) -> list[ItemResult]:
        return list(await asyncio.gather(*(self.score_one(item, recipe) for item in items)))

    async def score_one(self, item: ScoreItem, recipe: Recipe) -> ItemResult:
        problem = self._check_limits(item)
        if problem:
            return ItemResult(id=item.id, reward=None, status=Status.invalid, error=problem)
        result_key = result_cache_key(item, recipe)
        hit = self.results.get(result_key)
        if hit is not None:
            return _with_id(hit, item.id, cached=True)
        text = extract.completion_text(item.completion)
        split = extract.split_completion(text, extract.prompt_prefills_think(item.prompt))
        parts = accuracy_key_parts(item, split.region, recipe)
        if parts is None:
            result, _ = await self._run(item, recipe, None)
        else:
            result = await self._score_with_accuracy(item, recipe, content_key(parts))
        if result.status is Status.ok:
            self.results.put(result_key, result)
        return result

    async def _score_with_accuracy(self, item: ScoreItem, recipe: Recipe, key: str) -> ItemResult:
        known = self.accuracy.get(key)
        if known is None and key in self._in_flight:
            known = await asyncio.shield(self._in_flight[key])
        if known is not None:
            result, _ = await self._run(item, recipe, known)
            return result
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result, verdict = await self._run(item, recipe, None)
            if verdict is None:  # the job itself failed: waiters share this item's failure
                verdict = Verdict(None, result.status, result.error).to_dict()
            elif verdict["status"] == Status.ok:
                self.accuracy.put(key, verdict)
            future.set_result(verdict)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters may not exist
            raise
        finally:
            self._in_flight.pop(key, None)

    async def _run(self, item: ScoreItem, recipe: Recipe,
                   accuracy: dict[str, Any] | None) -> tuple[ItemResult, dict[str, Any] | None]:
        """One grader-process job; turns pool failures into this item's result."""
        code = item.task == "code"
        pool = await self._code() if code else self._pool
        assert pool is not None, "engine not started"
        timeout = self.settings.code_item_timeout_s if code else self.settings.item_timeout_s
        args = (item.model_dump(mode="json"), recipe.key, accuracy)
        try:
            out = await pool.arun("reward_service.scoring.score_job", args, timeout)
        except JobTimeout as exc:
            return _failed(item, Status.timeout, str(exc)), None
        except (WorkerCrashed, JobFailed) as exc:
            log.warning("item %r failed in its grader: %s", item.id, exc)
            return _failed(item, Status.error, str(exc)), None
        except PoolError as exc:
            return _failed(item, Status.error, str(exc)), None
        return ItemResult.model_validate(out["result"]), out["accuracy"]

    def _check_limits(self, item: ScoreItem) -> str | None:
        s = self.settings
        size = len(extract.completion_text(item.completion))
        if size > s.max_completion_chars:
            return f"completion longer than {s.max_completion_chars} characters"
        if item.task == "code" and size > s.max_code_chars:
            return f"code item longer than {s.max_code_chars} characters"
        if item.task == "code" and isinstance(item.tests, dict | list):
            n = len(item.tests) if isinstance(item.tests, list) else len(item.tests.get("inputs") or [])
            if n > s.max_tests_per_item:
                return f"{n} tests; at most {s.max_tests_per_item} per item"
        return None

    def describe(self) -> dict[str, Any]:
        return {"queue": "embedded", "workers": self.settings.workers}

    def stats(self) -> dict[str, Any]:
        pool = self._pool
        return {"result_cache_hits": self.results.hits, "accuracy_cache_hits": self.accuracy.hits,
                "workers_replaced": pool.replaced if pool else 0}

    async def aclose(self) -> None:
        for pool in (self._pool, self._code_pool):
            if pool is not None:
                await asyncio.to_thread(pool.close)


def result_cache_key(item: ScoreItem, recipe: Recipe) -> str:
    """The content hash of everything that affects an item's result (its ``id`` and ``source`` do not)."""
    return content_key(item.model_dump(exclude={"id", "source"}, mode="json"), recipe.key)


def _prepare_sandbox_image() -> None:
    """Build the sandbox image if it is missing, in the background: code items that arrive meanwhile wait for
    the build in their grader (or get a clear error if it fails), everything else is served at once."""
    try:
        import docker

        from sandbox.image import ensure_image
        log.info("sandbox image ready: %s", ensure_image(docker.from_env(timeout=600)))
    except Exception as exc:  # no engine here: 'auto' falls back to bubblewrap per item
        log.info("no Docker sandbox image (%s); code items use the next available backend", exc)


def _failed(item: ScoreItem, status: Status, reason: str) -> ItemResult:
    return ItemResult(id=item.id, reward=None, status=status, error=reason)


def _with_id(result: ItemResult, item_id: Any, cached: bool) -> ItemResult:
    details = {**result.details, "cached": cached}
    return result.model_copy(update={"id": item_id, "details": details})
