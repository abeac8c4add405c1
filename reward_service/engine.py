"""The grading engine: per-item limits, caches, coalescing, and dispatch to grader processes.

This is the code every deployment grades with: the embedded in-process queue calls it from the API process,
Redis workers call it on the chunks they claim. Two caches sit in front of the pools:

* the result cache: an item identical in everything that affects its result (minus ``id``) is answered
  from memory;
* the accuracy cache: GRPO groups repeat answers, so a verdict is keyed by (task, final-answer region,
  reference, options). Identical keys in flight at once are graded once; the others wait for it. A waiter
  that is cancelled only stops waiting; if the request doing the work is cancelled (its job expired, its
  worker stops), the work is handed to a task of the engine's own, so the others still get their verdict.

Before any of that, each item is checked, hashed and split (pure CPU, ~50 us an item). A large batch does
this in a thread, in slices, so the event loop keeps serving (``/healthz`` included) while it runs.

An item is graded in two stages, each component by its registry entry (:mod:`reward_service.components`):
in a grader process (:func:`reward_service.scoring.score_job`), then here, in the event loop, the components
that call what this process shares (:class:`~reward_service.components.Services`: the operator's LLM judges
and the reward models, both owned by the engine); :func:`~reward_service.scoring.assemble` makes the result.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

from reward_service import components
from reward_service.cache import LRUCache, content_key
from reward_service.components import ComponentFailed, Context, Services
from reward_service.grading import extract, special_tokens
from reward_service.grading.types import Grade, Reason
from reward_service.llm_judge import Judges
from reward_service.pool import (
    GRADERS,
    JobFailed,
    JobTimeout,
    OverBudget,
    PoolError,
    ProcessPool,
    WorkerCrashed,
)
from reward_service.queue.fair import ANONYMOUS
from reward_service.recipes import Recipe
from reward_service.reward_model import RewardModels
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.scoring import Graded, GradingConfig, accuracy_key_parts, assemble
from reward_service.settings import Settings
from reward_service.surrogates import lone_surrogate_field, valid

log = logging.getLogger(__name__)

JOB = "reward_service.scoring.score_job"  # what a grader process runs for an item
PREPARE_INLINE = 64   # batches up to this size are prepared on the event loop (a thread hop costs more)
PREPARE_SLICE = 256   # larger ones in a thread, this many items at a time
START_SLICE = 512     # grading tasks created per turn of the event loop


@dataclass(frozen=True)
class _Prepared:
    """An item that needs grading, with its cache keys."""

    item: ScoreItem
    result_key: str
    accuracy_key: str | None
    text: str
    split: extract.Split
    stripped: tuple[str, ...] = ()  # trailing stop tokens taken off its completion (special_tokens.py)


class GradingEngine:
    """Grades items under resolved recipes; owns the grader pools, the caches, the judges and the reward
    models it was given (loaded at start by the CLI: ``RewardModels.load``)."""

    def __init__(self, settings: Settings, models: RewardModels | None = None) -> None:
        self.settings = settings
        self._config = GradingConfig.from_settings(settings)  # what the graders get of the settings
        components.load(self._config.component_modules)  # the operator's components, in this process too
        budget = int(settings.cache_max_mb * 1024 * 1024)
        self.results = LRUCache(budget // 2)
        self.accuracy = LRUCache(budget - budget // 2)
        self._in_flight: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._waiting: Counter[str] = Counter()  # requests waiting on each in-flight verdict
        self.judges = Judges(settings.judges)  # the operator's (REWARD_JUDGES); recipes only name them
        self.models = models if models is not None else RewardModels()
        self.services = Services(self.judges, self.models)
        self._preload = (*GRADERS, *self._config.component_modules)  # imported once, before graders fork
        self._pool: ProcessPool | None = None
        self._code_pool: ProcessPool | None = None
        self._code_pool_lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the grader processes (forked from a forkserver that has loaded the graders and components)."""
        self._pool = await asyncio.to_thread(
            ProcessPool, self.settings.workers, memory_limit_mb=self.settings.grader_memory_mb, name="graders",
            per_caller_limit=self.settings.per_key_concurrency, preload=self._preload)
        if self.settings.sandbox_backend in ("auto", "docker"):
            threading.Thread(target=_prepare_sandbox_image, name="sandbox-image", daemon=True).start()

    async def _code(self) -> ProcessPool:
        async with self._code_pool_lock:  # started on first use: most deployments never grade code
            if self._code_pool is None:
                self._code_pool = await asyncio.to_thread(
                    ProcessPool, self.settings.code_workers, name="code-graders",
                    per_caller_limit=self.settings.per_key_concurrency, preload=self._preload)
        return self._code_pool

    async def score(self, items: list[ScoreItem], recipe: Recipe, *,
                    caller: str = ANONYMOUS) -> list[ItemResult]:
        if len(items) <= PREPARE_INLINE:
            prepared = self._prepare_many(items, recipe)
        else:
            prepared = []
            for start in range(0, len(items), PREPARE_SLICE):
                prepared += await asyncio.to_thread(self._prepare_many, items[start:start + PREPARE_SLICE], recipe)
        todo = [(i, p) for i, p in enumerate(prepared) if isinstance(p, _Prepared)]
        tasks: list[asyncio.Future[ItemResult]] = []
        for start in range(0, len(todo), START_SLICE):
            if start:
                await asyncio.sleep(0)  # creating thousands of tasks is loop time too
            tasks += [asyncio.ensure_future(self._grade(p, recipe, caller))
                      for _, p in todo[start:start + START_SLICE]]
        results = list(prepared)
        for (i, _), result in zip(todo, await asyncio.gather(*tasks), strict=True):
            results[i] = result
        return results  # type: ignore[return-value]

    async def score_one(self, item: ScoreItem, recipe: Recipe, *, caller: str = ANONYMOUS) -> ItemResult:
        prepared = self._prepare(item, recipe)
        return await self._grade(prepared, recipe, caller) if isinstance(prepared, _Prepared) else prepared

    def _prepare_many(self, items: list[ScoreItem], recipe: Recipe) -> list[_Prepared | ItemResult]:
        return [self._prepare(item, recipe) for item in items]

    def _prepare(self, item: ScoreItem, recipe: Recipe) -> _Prepared | ItemResult:
        """The item's answer if it needs no grader (over a limit, or cached), else its cache keys."""
        problem = self._check_limits(item)
        if problem:
            return ItemResult(id=valid(item.id), reward=None, status=Status.invalid, error=problem)
        tokens = special_tokens.stop_tokens(self.settings.extra_stop_tokens)
        item, stripped = special_tokens.strip_item(item, tokens)  # before any key, grader, judge or model
        result_key = result_cache_key(item, recipe) if self.results.max_bytes else ""  # no hashing for nothing
        hit = self.results.get(result_key) if result_key else None
        if hit is not None:
            return special_tokens.noted(_with_id(hit, item.id, cached=True), stripped)
        text = extract.completion_text(item.completion)
        split = extract.split_completion(text, extract.prompt_prefills_think(item.prompt))
        parts = accuracy_key_parts(item, split.region, recipe)
        return _Prepared(item, result_key, None if parts is None else content_key(parts), text, split, stripped)

    async def _grade(self, prepared: _Prepared, recipe: Recipe, caller: str) -> ItemResult:
        item = prepared.item
        if prepared.accuracy_key is None:
            graded, _ = await self._run(item, recipe, None, caller)
        else:
            graded = await self._score_with_accuracy(item, recipe, prepared.accuracy_key, caller)
        result = graded if isinstance(graded, ItemResult) else await self._serve(prepared, recipe, graded)
        if result.status is Status.ok:
            self.results.put(prepared.result_key, result)
        return special_tokens.noted(result, prepared.stripped)

    async def _serve(self, prepared: _Prepared, recipe: Recipe, graded: Graded) -> ItemResult:
        """The service stage: each component whose entry serves, in recipe order; then the result. A component
        that fails makes the reward null and ends the stage."""
        grades, failed = dict(graded.grades), None
        ctx = Context(prepared.item, prepared.text, prepared.split, graded.accuracy)
        for comp in recipe.components:
            serve = comp.entry.serve
            if serve is None:
                continue
            try:
                grade = await serve(self.services, ctx, comp, grades.get(comp.name))
            except ComponentFailed as exc:
                failed = str(exc)
                break
            if grade is not None:
                grades[comp.name] = grade
        return assemble(prepared.item, recipe, graded, grades, failed)

    async def _score_with_accuracy(self, item: ScoreItem, recipe: Recipe, key: str,
                                   caller: str) -> Graded | ItemResult:
        known = self.accuracy.get(key)
        if known is None:
            shared = self._in_flight.get(key)
            if shared is None:  # this item is graded for everyone who asks meanwhile
                shared = asyncio.get_running_loop().create_future()
                self._in_flight[key] = shared
                try:
                    result, verdict = await self._verdict_for_all(item, recipe, key, caller)
                except asyncio.CancelledError:
                    # Our caller gave up; those waiting on this verdict did not. Grading it again in a task of
                    # its own costs one more run, only on this rare path (the common one makes no task).
                    if self._waiting[key]:
                        task = asyncio.create_task(self._verdict_for_all(item, recipe, key, caller),
                                                   name=f"verdict-{key[:8]}")
                        task.add_done_callback(partial(self._publish, key, shared))
                    else:
                        self._publish(key, shared, asyncio.CancelledError())
                    raise
                except BaseException as exc:
                    self._publish(key, shared, exc)
                    raise
                self._publish(key, shared, verdict)
                return result
            self._waiting[key] += 1
            try:
                known = await asyncio.shield(shared)  # our cancel stops our wait, not the shared work
            finally:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
        result, _ = await self._run(item, recipe, known, caller)
        return result

    async def _verdict_for_all(self, item: ScoreItem, recipe: Recipe, key: str,
                               caller: str) -> tuple[Graded | ItemResult, dict[str, Any]]:
        graded, verdict = await self._run(item, recipe, None, caller)
        if isinstance(graded, ItemResult):  # the job itself failed: waiters share its failure
            code = Reason.timeout if graded.status is Status.timeout else Reason.grader_failed
            verdict = Grade(None, graded.status, code, graded.error or "grading failed").to_dict()
        assert verdict is not None  # an accuracy key means the job grades the accuracy
        if verdict["status"] == Status.ok:
            self.accuracy.put(key, verdict)
        return graded, verdict

    def _publish(self, key: str, shared: asyncio.Future[dict[str, Any]], outcome: Any) -> None:
        """Hand the verdict (or the failure) to everyone waiting on ``shared``; ``outcome`` is the verdict, an
        exception, or the task that graded it for them."""
        if self._in_flight.get(key) is shared:
            del self._in_flight[key]
        if shared.done():
            return
        if isinstance(outcome, asyncio.CancelledError) or isinstance(outcome, asyncio.Task) and outcome.cancelled():
            shared.cancel()  # nobody waits (or the engine is closing)
            return
        if isinstance(outcome, asyncio.Task):
            outcome = outcome.exception() or outcome.result()[1]
        if isinstance(outcome, BaseException):
            shared.set_exception(outcome)
            shared.exception()  # retrieved: there may be no waiter
        else:
            shared.set_result(outcome)

    async def _run(self, item: ScoreItem, recipe: Recipe, accuracy: dict[str, Any] | None,
                   caller: str = ANONYMOUS) -> tuple[Graded | ItemResult, dict[str, Any] | None]:
        """One grader-process job, queued under ``caller``: its grades and accuracy, or a pool failure as this
        item's result. An answer that ran past its budget gets the grade its grader gave for that, and the job
        runs again with it (quick: the other components are graded, the accuracy is not)."""
        code = item.task == "code"
        pool = await self._code() if code else self._pool
        assert pool is not None, "engine not started"
        timeout = self.settings.code_item_timeout_s if code else self.settings.item_timeout_s
        budget = None if code else min(self.settings.answer_budget_s, timeout) or None
        args = (item.model_dump(mode="json"), recipe, accuracy, self._config)  # the recipe travels resolved
        try:
            out = await pool.arun(JOB, args, timeout, owner=caller, budget=budget)
        except OverBudget as exc:
            if accuracy is not None:  # only the accuracy has a budget: never loops
                return _failed(item, Status.timeout, str(exc)), None
            return await self._run(item, recipe, exc.fallback, caller)
        except JobTimeout as exc:
            return _failed(item, Status.timeout, str(exc)), None
        except (WorkerCrashed, JobFailed) as exc:
            log.warning("item %r failed in its grader: %s", item.id, exc)
            return _failed(item, Status.error, str(exc)), None
        except PoolError as exc:
            return _failed(item, Status.error, str(exc)), None
        return Graded.from_dict(out), out["accuracy"]

    async def ready(self) -> dict[str, Any]:
        """Code items are graded here: ready when their sandbox can run (or is switched off)."""
        from reward_service.grading.code import sandbox_readiness
        facts = await asyncio.to_thread(sandbox_readiness, self.settings.sandbox_backend,
                                        self.settings.sandbox_bwrap_rlimits_only)
        return {"ok": facts["sandbox"] != "unavailable", **facts}

    def _check_limits(self, item: ScoreItem) -> str | None:
        s = self.settings
        bad = lone_surrogate_field(item)
        if bad:
            return f"{bad} is not valid Unicode (a lone surrogate such as \\udc80)"
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
        for shared in list(self._in_flight.values()):
            shared.cancel()
        await self.judges.aclose()
        await self.models.aclose()
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
