"""OpenRLHF's remote reward protocol (``--reward.remote_url http://host:8000/get_reward``; before 0.10
``--remote_rm_url``).

OpenRLHF sends ``query`` = prompt + response as one string, with ``prompts`` and ``labels`` beside it. Its
protocol has no null, so an item that could not be scored answers 0.0 and ``extra_logs.scored`` = 0 for it.
OpenRLHF 0.11 decodes the query with its special tokens; the engine strips the trailing ones (its stop token)
before grading (``reward_service/grading/special_tokens.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reward_service import llm_judge, recipes
from reward_service.api.auth import CallerDep
from reward_service.api.deps import BackendDep, SettingsDep
from reward_service.errors import RequestTooLarge
from reward_service.schemas import OpenRLHFRequest, OpenRLHFResponse, ScoreItem, Status, Task

router = APIRouter()


@router.post("/get_reward", response_model=OpenRLHFResponse, summary="OpenRLHF-compatible rewards")
async def get_reward(body: OpenRLHFRequest, settings: SettingsDep, backend: BackendDep, caller: CallerDep,
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
    resolved = recipes.resolve(recipe, settings.default_recipe)
    llm_judge.check(resolved, settings.judges)  # a judge it names must be the operator's (else a 422)
    results = await backend.score(items, resolved, caller=caller)
    rewards = [r.reward if r.reward is not None else 0.0 for r in results]
    logs: dict[str, list[float]] = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in sorted(c.name for c in resolved.components):  # every component, every call: OpenRLHF sends one
        logs[name] = [r.components.get(name, 0.0) for r in results]  # query a call and merges the calls' logs
    return OpenRLHFResponse(rewards=rewards, scores=rewards, extra_logs=logs)
