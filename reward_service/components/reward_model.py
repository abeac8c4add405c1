"""``reward_model``: a sequence-classification model this service serves scores the answer (R1's helpfulness)
or the whole completion (harmlessness). Labelled (``reward_model.<label>``) to use several. How models are
loaded and batched: :mod:`reward_service.reward_model`."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from pydantic import Field

from reward_service.components.registry import (
    Component,
    ComponentFailed,
    Context,
    Options,
    Services,
    register,
)
from reward_service.errors import UnknownRecipe
from reward_service.grading import extract
from reward_service.grading.types import Grade
from reward_service.reward_model import RewardModelError, normalize


class RewardModelOptions(Options):
    model: str = Field(min_length=1, description="Hub name or local path; the service must serve it "
                                                 "(REWARD_REWARD_MODELS / --models).")
    scope: Literal["answer", "full"] = Field("answer", description="answer: after </think> (R1's helpfulness); "
                                                                   "full: everything (R1's harmlessness).")
    normalize: Literal["raw", "sigmoid", "zscore"] = "raw"
    mean: float = Field(0.0, description="zscore: (raw - mean) / std.")
    std: float = Field(1.0, gt=0)
    max_length: int = Field(4096, ge=8, le=131072, description="Tokens; longer texts keep their end.")
    max_batch_tokens: int = Field(16384, ge=64, description="Padded tokens per forward pass.")


def models_in(recipe: Any) -> set[str]:
    """The reward models ``recipe`` names (what a Redis worker must serve to take its chunks)."""
    return {c.options.model for c in recipe.components if isinstance(c.options, RewardModelOptions)}


def check(recipe: Any, served: Collection[str]) -> None:
    """Raises :class:`~reward_service.errors.UnknownRecipe` (a 422) when ``recipe`` names a reward model that
    is not ``served`` here."""
    for comp in recipe.components:
        if isinstance(comp.options, RewardModelOptions) and comp.options.model not in served:
            raise UnknownRecipe(f"recipe.components.{comp.name}: reward model {comp.options.model!r} is not served "
                                f"here (serving: {', '.join(sorted(served)) or 'none'}; start the service with "
                                "REWARD_REWARD_MODELS, and the [rm] extra installed)",
                                field=f"recipe.components.{comp.name}.options.model")


async def _score(services: Services, ctx: Context, comp: Component, prior: Grade | None) -> Grade:
    o: RewardModelOptions = comp.options
    text = ctx.text
    summary = text.rpartition("</think>")[2].strip() if "</think>" in text else text  # R1: what follows the thought
    try:
        rendered = services.models.render(o.model, extract.prompt_text(ctx.item.prompt) or "",
                                          text if o.scope == "full" else summary)
        raw, truncated = await services.models.score(o.model, rendered, o.max_length, o.max_batch_tokens)
    except RewardModelError as exc:
        raise ComponentFailed(f"{comp.name}: {exc}") from None
    return Grade.ok(normalize(raw, o.normalize, o.mean, o.std), raw=raw, scope=o.scope, truncated=truncated)


register("reward_model", RewardModelOptions, serve=_score, labelled=True)
