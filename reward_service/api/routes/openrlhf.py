"""OpenRLHF's remote reward protocol (``--reward.remote_url http://host:8000/get_reward``; before 0.10
``--remote_rm_url``).

OpenRLHF sends ``query`` = prompt + response as one string, with ``prompts`` and ``labels`` beside it. Its
protocol has no null, so an item that could not be scored answers 0.0 and ``extra_logs.scored`` = 0 for it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reward_service import recipes
from reward_service.api.deps import BackendDep, SettingsDep
from reward_service.errors import RequestTooLarge
from reward_service.schemas import OpenRLHFRequest, OpenRLHFResponse, ScoreItem, Status, Task

router = APIRouter()


@router.post("/get_reward", response_model=OpenRLHFResponse, summary="OpenRLHF-compatible rewards")
async def get_reward(body: OpenRLHFRequest, settings: SettingsDep, backend: BackendDep,
                     recipe: Annotated[str | None, Query()] = None,
                     task: Annotated[Task, Query()] = "math") -> OpenRLHFResponse:
    n = len(body.query)
    if n > settings.max_items:
        raise RequestTooLarge(f"{n} queries; at most {settings.max_items} per request")
    prompts = body.prompts or [""] * n
    labels = body.labels or [None] * n
    items = []
    for i, (query, prompt, label) in enumerate(zip(body.query, prompts, labels, strict=True)):
        completion = query[len(prompt):] if prompt and query.startswith(prompt) else query
        items.append(ScoreItem(id=i, prompt=prompt or None, completion=completion, task=task,
                               answer=None if label is None else str(label)))
    results = await backend.score(items, recipes.resolve(recipe, settings.default_recipe))
    rewards = [r.reward if r.reward is not None else 0.0 for r in results]
    logs: dict[str, list[float]] = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in sorted({c for r in results for c in r.components}):
        logs[name] = [r.components.get(name, 0.0) for r in results]
    return OpenRLHFResponse(rewards=rewards, scores=rewards, extra_logs=logs)
