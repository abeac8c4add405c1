"""``llm_judge``: the operator's LLM judge scores the answer (or the whole completion) on a rubric, 0 to 10,
normalised to [0, 1]. Labelled (``llm_judge.<label>``) to ask several. How judges are asked:
:mod:`reward_service.llm_judge`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reward_service import llm_judge
from reward_service.components.registry import Component, ComponentFailed, Context, Services, register
from reward_service.grading import extract
from reward_service.grading.types import Grade, Reason
from reward_service.llm_judge import JudgeChoice, JudgeFailed


class LlmJudgeOptions(JudgeChoice):
    scope: Literal["answer", "full"] = Field("answer", description="answer: the final answer only; full: all of it.")
    criteria: str | None = Field(None, max_length=2000, description="Appended to the rubric prompt.")


async def _rubric(services: Services, ctx: Context, comp: Component, prior: Grade | None) -> Grade:
    options: LlmJudgeOptions = comp.options
    judges = services.judges
    answer = ctx.text if options.scope == "full" else (ctx.split.region or "")
    try:
        endpoint = judges.endpoint(options.judge)
        skipped = llm_judge.too_long(answer, endpoint)
        if skipped:
            return Grade.ok(0.0, Reason.answer_too_large, skipped, scope=options.scope, decided_by="rules")
        criteria = f" Criteria: {options.criteria}" if options.criteria else ""
        data = llm_judge.quoted(endpoint.max_answer_chars, request=extract.prompt_text(ctx.item.prompt) or
                                "(not given)", response=answer or "(empty)")
        score = await judges.ask(options.judge, llm_judge.RUBRIC.format(criteria=criteria, data=data),
                                 llm_judge.parse_score)
    except JudgeFailed as exc:
        raise ComponentFailed(f"judge: {exc}") from None
    return Grade.ok(score, scope=options.scope, decided_by="judge")


register("llm_judge", LlmJudgeOptions, serve=_rubric, labelled=True)
