"""FastAPI dependencies as ``Annotated`` aliases (the app state holds what the lifespan built), and what the
grading routes share: a request's recipe, resolved once and checked against this deployment."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from reward_service import llm_judge, recipes
from reward_service.components import reward_model
from reward_service.queue.base import GradingBackend
from reward_service.schemas import RecipeSpec
from reward_service.settings import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_backend(request: Request) -> GradingBackend:
    return request.app.state.backend


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BackendDep = Annotated[GradingBackend, Depends(get_backend)]


def resolved_recipe(request: Request, recipe: str | RecipeSpec | None) -> recipes.Recipe:
    """``recipe`` resolved (once for the request), or a 422 naming the field: an unknown component or option,
    a judge the operator did not declare, or (grading here) a reward model this process does not serve."""
    settings: Settings = request.app.state.settings
    resolved = recipes.resolve(recipe, settings.default_recipe)
    llm_judge.check(resolved, settings.judges)
    if not settings.redis_url:  # Redis workers serve their own models: the queue checks at enqueue (503)
        reward_model.check(resolved, request.app.state.models.names())
    return resolved
