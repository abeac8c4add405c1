"""``repetition``: the n-gram repetition penalty (open-r1's), on the completion or its chain of thought."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reward_service.components.registry import Context, Options, register
from reward_service.grading.repetition import repetition_penalty
from reward_service.grading.types import Grade


class RepetitionOptions(Options):
    ngram: int = Field(3, ge=1, le=20, description="n-gram size (open-r1's default: 3).")
    max_penalty: float = Field(-1.0, le=0, description="The penalty when every n-gram repeats (<= 0).")
    scope: Literal["completion", "reasoning"] = Field("completion", description="completion: everything the model "
                                                       "wrote (open-r1); reasoning: the chain of thought only.")


def _repetition(ctx: Context, options: RepetitionOptions) -> Grade:
    text = ctx.split.reasoning or "" if options.scope == "reasoning" else ctx.text
    return repetition_penalty(text, options.ngram, options.max_penalty)


register("repetition", RepetitionOptions, grade=_repetition)
