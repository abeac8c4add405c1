"""OpenRLHF's remote reward protocol (``--reward.remote_url http://host:8000/get_reward``; before 0.10
``--remote_rm_url``).

OpenRLHF sends ``query`` = prompt + response as one string, with ``prompts`` and ``labels`` beside it; a label
is the reference, or with ``?task=code`` the tests as JSON (the items are made as the file form makes them,
:mod:`reward_service.adapters.openrlhf`, so both forms grade alike). Its protocol has no null, so an item
that could not be scored answers 0.0 and ``extra_logs.scored`` = 0 for it.
OpenRLHF 0.11 decodes the query with its special tokens; the engine strips the trailing ones (its stop token)
before grading (``reward_service/grading/special_tokens.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from reward_service.adapters import openrlhf
from reward_service.api.auth import CallerDep
from reward_service.api.deps import BackendDep, SettingsDep, resolved_recipe
from reward_service.errors import RequestTooLarge
from reward_service.schemas import ItemResult, OpenRLHFRequest, OpenRLHFResponse, ScoreItem, Status, Task

router = APIRouter()


@router.post("/get_reward", response_model=OpenRLHFResponse, summary="OpenRLHF-compatible rewards")
async def get_reward(body: OpenRLHFRequest, request: Request, settings: SettingsDep, backend: BackendDep,
                     caller: CallerDep, recipe: Annotated[str | None, Query()] = None,
                     task: Annotated[Task, Query()] = "math") -> OpenRLHFResponse:
    """The items are built as the file form builds them (:func:`reward_service.adapters.openrlhf.items`)."""
    n = len(body.query)
    if n > settings.max_items:
        raise RequestTooLarge(f"{n} queries; at most {settings.max_items} per request")
    resolved = resolved_recipe(request, recipe)
    rows = openrlhf.items(body.query, body.prompts, body.labels, task)
    answers = iter(await backend.score([row for row in rows if isinstance(row, ScoreItem)], resolved, caller=caller))
    results = [row if isinstance(row, ItemResult) else next(answers) for row in rows]  # refused rows as they are
    rewards = [r.reward if r.reward is not None else 0.0 for r in results]
    logs: dict[str, list[float]] = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in sorted(c.name for c in resolved.components):  # every component, every call: OpenRLHF sends one
        logs[name] = [r.components.get(name, 0.0) for r in results]  # query a call and merges the calls' logs
    return OpenRLHFResponse(rewards=rewards, scores=rewards, extra_logs=logs)
