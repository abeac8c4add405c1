"""The GRPO reward function: one batched request to the reward service per step.

TRL calls reward functions with the step's ``prompts``, ``completions``, ``completion_ids`` and every other
dataset column as keyword lists. :func:`service_reward` is a module-level coroutine function, so TRL runs it
on its event loop; bind it to a :class:`ServiceScorer` with :func:`reward_func` (a ``functools.partial``,
which TRL both detects as async and names ``service_reward``).

What a step returns:

* a float for every item the service scored (the recipe's weighted sum);
* ``None`` for every item it could not score (item status error/timeout/invalid, or the service down after
  the client's retries). TRL leaves these out of the group baseline; they are never a fake 0.

Beside TRL's own metrics it logs (``log_metric``): ``service/<component>`` means (accuracy, format,
language, ...), ``service/unscored_frac``, ``service/wait_s`` and ``reflection_rate`` — the share of
completions with a reflection phrase ("wait", "let me check", ...), the R1 paper's "aha moment".
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reward_service.client import AsyncRewardClient, RewardServiceError
from reward_service.schemas import ItemResult, ScoreItem, Status, completion_text
from trainer.config import ServiceConfig
from trainer.data import item_fields

logger = logging.getLogger("trainer.rewards")

REFLECTION_PHRASES = ("wait", "let me check", "let me verify", "let me re-check", "let me recheck",
                      "re-evaluate", "reevaluate", "re-examine", "double-check", "double check",
                      "on second thought", "i made a mistake", "let's verify", "let us verify", "hmm")
_REFLECTION = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in REFLECTION_PHRASES) + r")\b", re.IGNORECASE)


def reflection_rate(texts: Sequence[str]) -> float:
    """Share of ``texts`` that contain at least one reflection phrase."""
    return sum(bool(_REFLECTION.search(t)) for t in texts) / len(texts) if texts else 0.0


def build_items(prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Any] | None,
                columns: dict[str, Sequence[Any]], default_task: str = "math") -> list[ScoreItem]:
    """One :class:`ScoreItem` per completion. ``columns`` are TRL's per-row dataset columns (``task``,
    ``answer``, ``tests``, ``language``, ``target_language``); ``prompt`` is the rendered prompt text, so
    the service sees a prefilled ``<think>`` exactly as the model did."""
    items = []
    for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        row = {name: values[i] for name, values in columns.items() if isinstance(values, list | tuple)}
        fields = item_fields(row.get("task") or default_task, row)
        tokens = len(completion_ids[i]) if completion_ids is not None else None
        items.append(ScoreItem(id=i, prompt=prompt if isinstance(prompt, str) else list(prompt),
                               completion=completion_text(completion), completion_tokens=tokens, **fields))
    return items


def summarize(results: Sequence[ItemResult]) -> tuple[list[float | None], dict[str, float], Counter[str]]:
    """(rewards with None for unscored items, per-component means over scored items, status counts)."""
    rewards = [r.reward if r.status is Status.ok else None for r in results]
    sums: dict[str, list[float]] = {}
    for r in results:
        if r.status is Status.ok:
            for name, value in r.components.items():
                sums.setdefault(name, []).append(value)
    means = {name: sum(v) / len(v) for name, v in sums.items()}
    return rewards, means, Counter(r.status.value for r in results)


@dataclass
class ServiceScorer:
    """The client and recipe a training run scores with, plus running counts (for logs and tests)."""

    client: AsyncRewardClient
    recipe: str | dict[str, Any] | None = "r1-zero"
    default_task: str = "math"
    requests: int = 0          # score() calls that reached the service and were answered
    failed_requests: int = 0   # score() calls that failed after the client's retries
    scored: int = 0            # items with a reward
    unscored: int = 0          # items left None
    wait_s: float = 0.0        # total time spent waiting for the service
    history: list[dict[str, Any]] = field(default_factory=list)  # the latest calls: rewards, wait, error
    history_size: int = 1000   # calls kept in ``history`` (a long run must not grow it forever)
    down_steps: int = 0        # consecutive calls that failed (the current outage)

    @classmethod
    def from_config(cls, cfg: ServiceConfig, default_task: str = "math", **client_kwargs: Any) -> ServiceScorer:
        client = AsyncRewardClient(cfg.url, api_key=cfg.resolved_api_key(), timeout=cfg.timeout_s,
                                   retries=cfg.retries, backoff=cfg.backoff_s, max_batch=cfg.max_batch,
                                   **client_kwargs)
        return cls(client, cfg.recipe, default_task)

    async def score(self, items: list[ScoreItem]) -> tuple[list[float | None], dict[str, float]]:
        """Rewards (None where unscored) and metrics for one step's items, in one batched call."""
        started = time.perf_counter()
        try:
            results = await self.client.score(items, recipe=self.recipe)
        except RewardServiceError as exc:
            if exc.status_code is not None and exc.status_code < 500 and exc.status_code != 429:
                raise  # 401/413/422: a misconfigured run; sending the next step cannot help either
            return self._outage(len(items), time.perf_counter() - started, exc)
        wait = time.perf_counter() - started
        if self.down_steps:
            logger.warning("reward service is back after %d step(s) without rewards", self.down_steps)
            self.down_steps = 0
        rewards, means, statuses = summarize(results)
        unscored = sum(r is None for r in rewards)
        if unscored:
            reasons = Counter(r.error or r.status.value for r in results if r.status is not Status.ok)
            logger.warning("reward service could not score %d of %d completions (%s); their reward is None. "
                           "Most common: %s", unscored, len(items), dict(statuses), reasons.most_common(1)[0][0])
        self._count(rewards, wait, error=None)
        metrics = {f"service/{name}": value for name, value in means.items()}
        metrics.update({"service/unscored_frac": unscored / len(items), "service/wait_s": wait})
        return rewards, metrics

    def _outage(self, n: int, wait: float, exc: RewardServiceError) -> tuple[list[float | None], dict[str, float]]:
        self.down_steps += 1
        if self.down_steps == 1:  # one clear line per outage, not one per step
            logger.error("REWARD SERVICE UNAVAILABLE: %s. Every completion gets reward None (no learning signal, "
                         "not 0) until it is back; training continues and tries again each step.", exc)
        else:
            logger.debug("reward service still unavailable (%d steps): %s", self.down_steps, exc)
        rewards: list[float | None] = [None] * n
        self.failed_requests += 1
        self._count(rewards, wait, error=str(exc))
        return rewards, {"service/unscored_frac": 1.0, "service/wait_s": wait}

    def _count(self, rewards: list[float | None], wait: float, error: str | None) -> None:
        self.requests += error is None
        self.scored += sum(r is not None for r in rewards)
        self.unscored += sum(r is None for r in rewards)
        self.wait_s += wait
        self.history.append({"rewards": rewards, "wait_s": wait, "error": error})
        if len(self.history) > self.history_size:
            del self.history[:-self.history_size]

    async def aclose(self) -> None:
        await self.client.aclose()


async def service_reward(prompts: list[Any], completions: list[Any], completion_ids: list[Any] | None = None, *,
                         scorer: ServiceScorer, log_metric: Callable[[str, float], None] | None = None,
                         **columns: Any) -> list[float | None]:
    """TRL reward function: the service's reward for every completion of the step (None = unscored)."""
    items = build_items(prompts, completions, completion_ids, columns, scorer.default_task)
    rewards, metrics = await scorer.score(items)
    if log_metric is not None:
        metrics["reflection_rate"] = reflection_rate([completion_text(c) for c in completions])
        for name, value in metrics.items():
            log_metric(name, value)
    return rewards


def reward_func(scorer: ServiceScorer) -> Callable[..., Any]:
    """:func:`service_reward` bound to ``scorer``, in the form TRL takes (async, named, picklable)."""
    return functools.partial(service_reward, scorer=scorer)
