"""``format`` (all or nothing) and ``tag_count`` (open-r1's partial credit): the R1-Zero or R1 template."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reward_service.components.registry import Context, Options, register
from reward_service.grading import extract
from reward_service.grading.format import format_reward, tag_count_reward
from reward_service.grading.types import Grade


class FormatOptions(Options):
    mode: Literal["r1_zero", "r1"] = Field("r1_zero", description="r1_zero: <think>…</think> <answer>…</answer>; "
                                                                  "r1: <think>…</think> then the answer.")
    prefilled_think: bool | None = Field(None, description="The prompt opened <think>; None = detect from prompt.")


def _prefilled(ctx: Context, options: FormatOptions) -> bool:
    if options.prefilled_think is not None:
        return options.prefilled_think
    return extract.prompt_prefills_think(ctx.item.prompt)


def _format(ctx: Context, options: FormatOptions) -> Grade:
    return format_reward(ctx.text, options.mode, _prefilled(ctx, options))


def _tag_count(ctx: Context, options: FormatOptions) -> Grade:
    return tag_count_reward(ctx.text, options.mode, _prefilled(ctx, options))


register("format", FormatOptions, grade=_format)
register("tag_count", FormatOptions, grade=_tag_count)
