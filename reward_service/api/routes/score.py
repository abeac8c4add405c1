"""POST /score: the synchronous grading path trainers call every step."""

from __future__ import annotations

from fastapi import APIRouter, Request

from reward_service.api.auth import CallerDep
from reward_service.api.deps import BackendDep, SettingsDep, resolved_recipe
from reward_service.errors import RequestTooLarge
from reward_service.schemas import ScoreRequest, ScoreResponse

router = APIRouter()


@router.post("/score", response_model=ScoreResponse, summary="Grade a batch of completions")
async def score(body: ScoreRequest, request: Request, settings: SettingsDep, backend: BackendDep,
                caller: CallerDep) -> ScoreResponse:
    """Each item is graded on its own and answered in request order; a bad item fails alone."""
    if len(body.items) > settings.max_items:
        raise RequestTooLarge(f"{len(body.items)} items; at most {settings.max_items} per request")
    recipe = resolved_recipe(request, body.recipe)
    return ScoreResponse(results=await backend.score(body.items, recipe, caller=caller))
