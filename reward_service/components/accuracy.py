"""``accuracy``: is the final answer right?

Graded in the grader process by the item's task (math, code, countdown, ifeval: :func:`reward_service.scoring.grade_accuracy`)
before any component, since ``cosine`` uses it too and the engine caches it by answer and reference. With
``judge_fallback``, the service stage then asks the operator's LLM judge about a math item whose answer or
reference the rules could not read (reason code in :data:`~reward_service.grading.types.UNDECIDED`), and only
those: a rule 0 or 1 stands.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field

from reward_service import llm_judge
from reward_service.components.registry import (
    Component,
    ComponentFailed,
    Context,
    Options,
    Services,
    register,
)
from reward_service.grading import extract
from reward_service.grading.types import UNDECIDED, Grade
from reward_service.llm_judge import JudgeChoice, JudgeFailed, Judges


class AccuracyOptions(Options):
    partial: bool = Field(False, description="Code: reward the passed fraction instead of all-or-nothing; "
                          "ifeval: the fraction of instructions followed.")
    loose: bool = Field(False, description="ifeval: IFEval's loose verdicts (first/last line, '*' removed).")
    float_rounding: int = Field(6, ge=0, le=15, description="Math: decimals kept when an answer is a float.")
    strict: bool = Field(True, description="Math: variable names matter (x+1 is not y+1).")
    judge_fallback: JudgeChoice | None = Field(None, description="Math: ask this LLM judge only where the rules "
                                               "found no answer they could read or could not read the reference.")


def _graded(ctx: Context, options: AccuracyOptions) -> Grade | None:
    return ctx.accuracy  # graded before the components (see the module docstring); None: the task has none


async def _judge_fallback(services: Services, ctx: Context, comp: Component, prior: Grade | None) -> Grade | None:
    """The rules' grade with ``decided_by``, or the judge's where the rules were undecided."""
    choice = comp.options.judge_fallback
    if choice is None:
        return None
    try:
        services.judges.endpoint(choice.judge)  # declared in this process, asked or not
        if ctx.item.task != "math" or prior is None:
            return None
        return await _decide(services.judges, choice.judge, ctx, prior)
    except JudgeFailed as exc:
        raise ComponentFailed(f"judge: {exc}") from None


async def _decide(judges: Judges, name: str, ctx: Context, prior: Grade) -> Grade:
    endpoint = judges.endpoint(name)
    region = ctx.split.region
    undecided = prior.code in UNDECIDED
    skipped = llm_judge.too_long(region or "", endpoint)
    if not (undecided and region and not skipped):
        said = {**prior.details, "decided_by": "rules"}
        if undecided and skipped:
            said["judge_skipped"] = skipped
        return replace(prior, details=said)
    data = llm_judge.quoted(endpoint.max_answer_chars, problem=extract.prompt_text(ctx.item.prompt) or "(not given)",
                            reference_answer=ctx.item.answer or "", student_final_answer=region)
    score = await judges.ask(name, llm_judge.MATH_EQUIVALENCE.format(data=data), llm_judge.parse_yes_no)
    return Grade.ok(score, **prior.details, decided_by="judge", rules_said=prior.reason,
                    rules_code=prior.code.value if prior.code else None)


register("accuracy", AccuracyOptions, grade=_graded, serve=_judge_fallback, uses_accuracy=True)
