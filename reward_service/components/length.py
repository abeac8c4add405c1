"""``overlong`` (DAPO's soft overlong punishment) and ``cosine`` (length-scaled correctness): length shaping.

Length is the item's ``completion_tokens`` when it has them, else the completion's characters.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from reward_service.components.registry import Context, Options, register
from reward_service.grading import length as shaping
from reward_service.grading.types import Grade, Status


class OverlongOptions(Options):
    max_length: int = Field(gt=0, description="DAPO L_max (tokens when items carry completion_tokens).")
    cache_length: int = Field(ge=0, description="DAPO L_cache: the soft-punishment ramp before L_max.")

    @model_validator(mode="after")
    def _ramp_fits(self) -> OverlongOptions:
        if self.cache_length > self.max_length:
            raise ValueError("cache_length must be <= max_length")
        return self


class CosineOptions(Options):
    max_length: int = Field(gt=0)
    min_correct: float = 0.5
    max_correct: float = 1.0
    min_wrong: float = -1.0
    max_wrong: float = -0.5


def _length(ctx: Context) -> int:
    return ctx.item.completion_tokens if ctx.item.completion_tokens is not None else len(ctx.text)


def _overlong(ctx: Context, options: OverlongOptions) -> Grade:
    n = _length(ctx)
    return Grade.ok(shaping.overlong_penalty(n, options.max_length, options.cache_length), length=n)


def _cosine(ctx: Context, options: CosineOptions) -> Grade | None:
    accuracy = ctx.accuracy
    if accuracy is None or accuracy.status is not Status.ok:
        return accuracy  # no accuracy for this task: none; the accuracy failed: so does this
    assert accuracy.score is not None
    n = _length(ctx)
    return Grade.ok(shaping.cosine_scaled(
        n, accuracy.score >= 1.0, options.max_length, min_correct=options.min_correct,
        max_correct=options.max_correct, min_wrong=options.min_wrong, max_wrong=options.max_wrong), length=n)


register("overlong", OverlongOptions, grade=_overlong)
register("cosine", CosineOptions, grade=_cosine, uses_accuracy=True)
