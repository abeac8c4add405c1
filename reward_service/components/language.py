"""``language``: the share of the chain of thought written in the target language (R1's consistency reward)."""

from __future__ import annotations

import dataclasses

from pydantic import Field

from reward_service.components.registry import Context, Options, register
from reward_service.grading import extract
from reward_service.grading.types import Grade


class LanguageOptions(Options):
    default_target: str | None = Field(None, description="Target when the item has no target_language; "
                                                         "None = the prompt's language, else 'en'.")


def _target(ctx: Context, default_target: str | None, reasoning: str) -> tuple[str, str]:
    """(target language, where it came from): the item's, the recipe's default, else the prompt's."""
    from reward_service.grading.language import infer_target
    if ctx.item.target_language:
        return ctx.item.target_language, "item"
    if default_target:
        return default_target, "recipe"
    return infer_target(extract.prompt_text(ctx.item.prompt), reasoning)


def _language(ctx: Context, options: LanguageOptions) -> Grade:
    from reward_service.grading.language import language_consistency
    reasoning = ctx.split.reasoning or ctx.text
    target, source = _target(ctx, options.default_target, reasoning)
    grade = language_consistency(reasoning, target)
    return dataclasses.replace(grade, details={"target": target, "target_from": source, **grade.details})


register("language", LanguageOptions, grade=_language)
