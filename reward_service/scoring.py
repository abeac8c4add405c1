"""The grader stage of one item, and :func:`assemble`, which makes an item's result of every stage's grades.

:func:`score_job` runs in a grader process: extract once, grade the accuracy (the item's task: math, code,
countdown), then each component whose registry entry grades in this stage. Pure and synchronous: the caller
owns time limits (it kills the process) and caching. What crosses into the process: the item as its JSON,
the recipe resolved (a :class:`~reward_service.recipes.Recipe`: made once per request by the API, or once per
chunk by a Redis worker, and never re-resolved here), a known accuracy grade as its dict, and what the
graders need of the service's settings as a :class:`GradingConfig` (never read from the environment here,
so an engine built in code with its own ``Settings`` is honoured). What comes back is plain data: each
component's grade (:class:`Graded`). The service stage (judges, reward models) and :func:`assemble` follow
in the engine.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reward_service import components
from reward_service.components import Context
from reward_service.grading import extract
from reward_service.grading.types import Grade, Reason, Status
from reward_service.recipes import Recipe
from reward_service.schemas import ItemResult, ScoreItem
from reward_service.settings import Settings

ACCURACY_TASKS = ("math", "code", "countdown", "ifeval")


@dataclass(frozen=True)
class GradingConfig:
    """The settings the graders use, passed with each job."""

    sandbox_backend: str = "auto"
    bwrap_rlimits_only: bool = False
    component_modules: tuple[str, ...] = ()  # the operator's component modules (preloaded: importing is a no-op)

    @classmethod
    def from_settings(cls, settings: Settings) -> GradingConfig:
        return cls(settings.sandbox_backend, settings.sandbox_bwrap_rlimits_only, settings.component_module_names())


@dataclass(frozen=True)
class Graded:
    """What the grader stage made of an item: each component's grade (those that apply), the accuracy."""

    grades: dict[str, Grade]
    accuracy: Grade | None
    answer_source: str
    grade_ms: float
    accuracy_cached: bool

    def to_dict(self) -> dict[str, Any]:
        return {"grades": {name: g.to_dict() for name, g in self.grades.items()},
                "accuracy": self.accuracy.to_dict() if self.accuracy else None, "answer_source": self.answer_source,
                "grade_ms": self.grade_ms, "accuracy_cached": self.accuracy_cached}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Graded:
        accuracy = Grade.from_dict(d["accuracy"]) if d["accuracy"] else None
        return cls({name: Grade.from_dict(g) for name, g in d["grades"].items()}, accuracy, d["answer_source"],
                   d["grade_ms"], d["accuracy_cached"])


def context(item: ScoreItem, accuracy: Grade | None = None) -> Context:
    text = extract.completion_text(item.completion)
    return Context(item, text, extract.split_completion(text, extract.prompt_prefills_think(item.prompt)), accuracy)


def accuracy_key_parts(item: ScoreItem, region: str | None, recipe: Recipe) -> dict[str, Any] | None:
    """What the accuracy grade depends on (None when no component of the recipe uses it, or the task has none)."""
    if item.task not in ACCURACY_TASKS or not any(c.entry.uses_accuracy for c in recipe.components):
        return None
    acc = recipe.get("accuracy")
    return {"task": item.task, "region": region, "answer": item.answer, "tests": item.tests,
            "language": item.language, "limits": item.limits.model_dump() if item.limits else None,
            "options": acc.options.model_dump() if acc else None,
            "prompt": extract.prompt_text(item.prompt) if item.task == "ifeval" else None}


def grade_accuracy(item: ScoreItem, split: extract.Split, recipe: Recipe,
                   config: GradingConfig = GradingConfig()) -> Grade:
    """The task's correctness grade on the final-answer region."""
    if item.task == "code":
        if item.tests is None:
            return Grade.invalid(Reason.no_reference, "code item has no tests")
    elif item.answer is None or not item.answer.strip():
        return Grade.invalid(Reason.no_reference, f"{item.task} item has no reference answer")
    if split.region is None:
        return Grade.ok(0.0, Reason.no_final_answer, split.reason)
    acc = recipe.get("accuracy")
    if item.task == "math":
        from reward_service.grading.math import MathOptions, grade_math
        options = MathOptions(float_rounding=acc.options.float_rounding, strict=acc.options.strict) if acc else \
            MathOptions()
        return grade_math(split.region, item.answer or "", options)
    if item.task == "countdown":
        from reward_service.grading.countdown import grade_countdown
        return grade_countdown(split.region, item.answer or "")
    if item.task == "ifeval":
        from reward_service.grading.ifeval import grade_ifeval
        region = split.region if split.source == "whole" else split.region.strip()  # after </think>: "\n\n"
        return grade_ifeval(region, item.answer or "", extract.prompt_text(item.prompt) or None,
                            partial=bool(acc and acc.options.partial), loose=bool(acc and acc.options.loose))
    from reward_service.grading.code import grade_code
    partial = bool(acc and acc.options.partial)
    return grade_code(split.region, item.tests, item.language, item.limits, partial=partial,
                      backend=config.sandbox_backend, bwrap_rlimits_only=config.bwrap_rlimits_only)


def grade_item(item: ScoreItem, recipe: Recipe, accuracy: Grade | None = None,
               config: GradingConfig = GradingConfig()) -> Graded:
    """The grader stage: reuse ``accuracy`` when the caller already has it."""
    started = time.perf_counter()
    ctx = context(item)
    cached = accuracy is not None
    if accuracy is None and accuracy_key_parts(item, ctx.split.region, recipe) is not None:
        accuracy = grade_accuracy(item, ctx.split, recipe, config)
    ctx = Context(ctx.item, ctx.text, ctx.split, accuracy)
    grades: dict[str, Grade] = {}
    for comp in recipe.components:
        grade = comp.entry.grade
        found = grade(ctx, comp.options) if grade is not None else None
        if found is not None:
            grades[comp.name] = found
    return Graded(grades, accuracy, ctx.split.source, round((time.perf_counter() - started) * 1000, 3), cached)


def score_item(item: ScoreItem, recipe: Recipe, accuracy: Grade | None = None,
               config: GradingConfig = GradingConfig()) -> tuple[ItemResult, Grade | None]:
    """``item``'s result graded here, grader stage only (no judge or reward model: they need an engine's
    services), and its accuracy grade: for tests and tools that grade in-process."""
    graded = grade_item(item, recipe, accuracy, config)
    return assemble(item, recipe, graded, graded.grades), graded.accuracy


def score_job(item: dict[str, Any], recipe: Recipe, accuracy: dict[str, Any] | None,
              config: GradingConfig) -> dict[str, Any]:
    """The grader-process entry point (see the module docstring): :meth:`Graded.to_dict`."""
    components.load(config.component_modules)
    graded = grade_item(ScoreItem.model_validate(item), recipe, Grade.from_dict(accuracy) if accuracy else None,
                        config)
    return graded.to_dict()


def assemble(item: ScoreItem, recipe: Recipe, graded: Graded, grades: Mapping[str, Grade],
             failed: str | None = None) -> ItemResult:
    """The item's result: the weighted sum of the components' grades, or a null reward with the first
    weighted component that could not be graded (or ``failed``, a service-stage component's error).
    Components with weight 0 are reported, and their failures do not count."""
    components_: dict[str, float] = {}
    details: dict[str, Any] = {"answer_source": graded.answer_source}
    failure: tuple[Status, str] | None = (Status.error, failed) if failed is not None else None
    reward = 0.0
    for comp in recipe.components:
        grade = grades.get(comp.name)
        if grade is None:
            continue
        details[comp.name] = grade.shown()
        if grade.status is not Status.ok:
            if comp.weight != 0 and failure is None:
                failure = (grade.status, f"{comp.name}: {grade.reason}")
            continue
        assert grade.score is not None
        components_[comp.name] = grade.score
        reward += comp.weight * grade.score
    details["timings"] = {"grade_ms": graded.grade_ms, "accuracy_cached": graded.accuracy_cached}
    if failure is not None:
        return ItemResult(id=item.id, reward=None, components=components_, status=failure[0], error=failure[1],
                          details=details)
    return ItemResult(id=item.id, reward=reward, components=components_, details=details)
