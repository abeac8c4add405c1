"""Score one item under a recipe: extract, grade each component, combine. Runs inside a grader process.

Pure and synchronous: the caller owns time limits (it kills the process) and caching. Inputs and outputs
are plain dicts so they cross process and queue boundaries as JSON. What the graders need from the
service's settings comes in as a :class:`GradingConfig` (never read from the environment here), so an engine
built in code with its own ``Settings`` is honoured.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from reward_service.grading import extract, length
from reward_service.grading.types import Status, Verdict
from reward_service.recipes import Recipe, resolve
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings

ACCURACY_TASKS = ("math", "code", "countdown")


@dataclass(frozen=True)
class GradingConfig:
    """The settings the graders use, passed to each job (they cross into grader processes as a dict)."""

    sandbox_backend: str = "auto"
    bwrap_rlimits_only: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> GradingConfig:
        return cls(settings.sandbox_backend, settings.sandbox_bwrap_rlimits_only)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def accuracy_key_parts(item: ScoreItem, region: str | None, recipe: Recipe) -> dict[str, Any] | None:
    """What the accuracy verdict depends on (None when the recipe has no accuracy to compute)."""
    comp = recipe.get("accuracy") or recipe.get("cosine")
    if comp is None or item.task not in ACCURACY_TASKS:
        return None
    acc = recipe.get("accuracy")
    return {"task": item.task, "region": region, "answer": item.answer, "tests": item.tests,
            "language": item.language, "limits": item.limits.model_dump() if item.limits else None,
            "options": acc.options.model_dump() if acc else None}


def grade_accuracy(item: ScoreItem, split: extract.Split, recipe: Recipe,
                   config: GradingConfig = GradingConfig()) -> Verdict:
    """The task's correctness verdict on the final-answer region."""
    if item.task == "code":
        if item.tests is None:
            return Verdict.invalid("code item has no tests")
    elif item.answer is None or not item.answer.strip():
        return Verdict.invalid(f"{item.task} item has no reference answer")
    if split.region is None:
        return Verdict.ok(0.0, reason=split.reason)
    acc = recipe.get("accuracy")
    if item.task == "math":
        from reward_service.grading.math import MathOptions, grade_math
        options = MathOptions(float_rounding=acc.options.float_rounding, strict=acc.options.strict) if acc else \
            MathOptions()
        return grade_math(split.region, item.answer or "", options)
    if item.task == "countdown":
        from reward_service.grading.countdown import grade_countdown
        return grade_countdown(split.region, item.answer or "")
    from reward_service.grading.code import grade_code
    partial = bool(acc and acc.options.partial)
    return grade_code(split.region, item.tests, item.language, item.limits, partial=partial,
                      backend=config.sandbox_backend, bwrap_rlimits_only=config.bwrap_rlimits_only)


def _language_target(item: ScoreItem, default_target: str | None, reasoning: str) -> tuple[str, str]:
    """(target language, where it came from): the item's, the recipe's default, else the prompt's."""
    from reward_service.grading.language import infer_target
    if item.target_language:
        return item.target_language, "item"
    if default_target:
        return default_target, "recipe"
    return infer_target(extract.prompt_text(item.prompt), reasoning)


def _grade_component(name: str, options: Any, item: ScoreItem, text: str, split: extract.Split,
                     accuracy: Verdict | None) -> Verdict | None:
    """One component's verdict, or None when it does not apply to this item (e.g. accuracy of task 'none')."""
    if name == "accuracy":
        return accuracy
    if name in ("format", "tag_count"):
        from reward_service.grading.format import format_reward, tag_count_reward
        prefilled = options.prefilled_think
        if prefilled is None:
            prefilled = extract.prompt_prefills_think(item.prompt)
        grader = format_reward if name == "format" else tag_count_reward
        return grader(text, options.mode, prefilled)
    if name == "language":
        from reward_service.grading.language import language_consistency
        reasoning = split.reasoning or text
        target, source = _language_target(item, options.default_target, reasoning)
        verdict = language_consistency(reasoning, target)
        return dataclasses.replace(verdict, details={"target": target, "target_from": source, **verdict.details})
    if name in ("llm_judge", "reward_model"):
        return None  # by the engine after this (llm_judge.py, reward_model.py), not in a grader process
    if name == "repetition":
        from reward_service.grading.repetition import repetition_penalty
        scope = split.reasoning or "" if options.scope == "reasoning" else text
        return repetition_penalty(scope, options.ngram, options.max_penalty)
    n = item.completion_tokens if item.completion_tokens is not None else len(text)
    if name == "overlong":
        return Verdict.ok(length.overlong_penalty(n, options.max_length, options.cache_length), length=n)
    if name == "cosine":
        if accuracy is None:
            return None
        if accuracy.status is not Status.ok:
            return accuracy
        assert accuracy.score is not None
        return Verdict.ok(length.cosine_scaled(
            n, accuracy.score >= 1.0, options.max_length, min_correct=options.min_correct,
            max_correct=options.max_correct, min_wrong=options.min_wrong, max_wrong=options.max_wrong), length=n)
    raise ValueError(f"unknown component {name!r}")


def combine(recipe: Recipe, result: ItemResult, components: dict[str, float], details: dict[str, Any],
            status: Status | str, error: str | None) -> ItemResult:
    """``result`` with components added after the grader process (judges, reward models): the reward is the
    weighted sum again, or null unless the status is ok."""
    reward = None
    if status == Status.ok:
        reward = sum(c.weight * components[c.name] for c in recipe.components if c.name in components)
    return result.model_copy(update={"reward": reward, "status": status, "error": error, "components": components,
                                     "details": details})


def score_item(item: ScoreItem, recipe: Recipe, accuracy: Verdict | None = None,
               config: GradingConfig = GradingConfig()) -> tuple[ItemResult, Verdict | None]:
    """Grade ``item``; reuse ``accuracy`` when the caller already has it. Returns (result, accuracy verdict)."""
    started = time.perf_counter()
    text = extract.completion_text(item.completion)
    prefilled = extract.prompt_prefills_think(item.prompt)
    split = extract.split_completion(text, prefilled_think=prefilled)
    cached_accuracy = accuracy is not None
    if accuracy is None and accuracy_key_parts(item, split.region, recipe) is not None:
        accuracy = grade_accuracy(item, split, recipe, config)

    components: dict[str, float] = {}
    details: dict[str, Any] = {"answer_source": split.source}
    failure: tuple[Status, str] | None = None
    reward = 0.0
    for comp in recipe.components:
        verdict = _grade_component(comp.kind, comp.options, item, text, split, accuracy)
        if verdict is None:
            continue
        details[comp.name] = {k: v for k, v in (("reason", verdict.reason), *verdict.details.items()) if v is not None}
        if verdict.status is not Status.ok:
            if comp.weight != 0 and failure is None:
                failure = (verdict.status, f"{comp.name}: {verdict.reason}")
            continue
        assert verdict.score is not None
        components[comp.name] = verdict.score
        reward += comp.weight * verdict.score
    details["timings"] = {"grade_ms": round((time.perf_counter() - started) * 1000, 3),
                          "accuracy_cached": cached_accuracy}
    if failure is not None:
        status, reason = failure
        return ItemResult(id=item.id, reward=None, components=components, status=status, error=reason,
                          details=details), accuracy
    return ItemResult(id=item.id, reward=reward, components=components, details=details), accuracy


@lru_cache(maxsize=64)
def _recipe(key: str) -> Recipe:
    return resolve(json.loads(key), "")


def score_job(item: dict[str, Any], recipe_key: str, accuracy: dict[str, Any] | None,
              config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The grader-process entry point: plain data in and out (see :func:`score_item`); the recipe as its key,
    the config as :meth:`GradingConfig.to_dict` made it."""
    result, verdict = score_item(ScoreItem.model_validate(item), _recipe(recipe_key),
                                 Verdict.from_dict(accuracy) if accuracy else None, GradingConfig(**(config or {})))
    return {"result": result.model_dump(mode="json"), "accuracy": verdict.to_dict() if verdict else None}
