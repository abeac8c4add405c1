"""POST /score: the synchronous grading path trainers call every step."""

from __future__ import annotations

from fastapi import APIRouter

from reward_service import llm_judge, recipes, reward_model
from reward_service.api.auth import CallerDep
from reward_service.api.deps import BackendDep, SettingsDep
from reward_service.errors import RequestTooLarge
from reward_service.schemas import ScoreRequest, ScoreResponse

router = APIRouter()


@router.post("/score", response_model=ScoreResponse, summary="Grade a batch of completions")
async def score(request: ScoreRequest, settings: SettingsDep, backend: BackendDep,
                caller: CallerDep) -> ScoreResponse:
    """Each item is graded on its own and answered in request order; a bad item fails alone."""
    if len(request.items) > settings.max_items:
        raise RequestTooLarge(f"{len(request.items)} items; at most {settings.max_items} per request")
    recipe = recipes.resolve(request.recipe, settings.default_recipe)
    llm_judge.check(recipe, settings.judges)  # a judge it names must be the operator's (else a 422)
    if not settings.redis_url:  # graded here: the reward models it names must be served here (else a 422)
        reward_model.check(recipe)
    return ScoreResponse(results=await backend.score(request.items, recipe, caller=caller))
