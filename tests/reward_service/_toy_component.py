"""A reward component of the tests' own, in a module of its own: the proof that a new grader is one module.

Nothing else in the repository knows it: a service registers it only when the operator names this module
(``REWARD_COMPONENT_MODULES=tests.reward_service._toy_component``). Each grade says which process made it.

* ``exclaims`` (grader stage): 1 when the final answer ends with ``mark``.
* ``prompt_words`` (service stage, labelled): the prompt's word count over ``per``, at most 1.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field

from reward_service.components import Context, Options, Services, register
from reward_service.grading import extract
from reward_service.grading.types import Grade, Reason


class ExclaimsOptions(Options):
    mark: str = Field("!", min_length=1, max_length=4)


def _exclaims(ctx: Context, options: ExclaimsOptions) -> Grade:
    region = (ctx.split.region or "").rstrip()
    if not region:
        return Grade.ok(0.0, Reason.no_answer, "nothing to exclaim", pid=os.getpid())
    return Grade.ok(float(region.endswith(options.mark)), pid=os.getpid())


class PromptWordsOptions(Options):
    per: int = Field(10, ge=1)


async def _prompt_words(services: Services, ctx: Context, comp: Any, prior: Grade | None) -> Grade:
    words = len(extract.prompt_text(ctx.item.prompt).split())
    return Grade.ok(min(1.0, words / comp.options.per), words=words, pid=os.getpid())


register("exclaims", ExclaimsOptions, grade=_exclaims)
register("prompt_words", PromptWordsOptions, serve=_prompt_words, labelled=True)
