"""Async jobs for evals and long batches: ``POST /jobs`` (202 + id), ``GET /jobs/{id}``.

A job is visible only to the API key that made it (404 for any other). ``Idempotency-Key`` makes a retried
POST return the first job instead of grading twice. Results stay readable for ``job_ttl_s``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from reward_service.api.auth import CallerDep
from reward_service.api.deps import SettingsDep, resolved_recipe
from reward_service.errors import RequestTooLarge
from reward_service.queue.jobs import JobStore
from reward_service.schemas import ItemResult, ScoreRequest, Status

router = APIRouter()


class JobCreated(BaseModel):
    id: str
    url: str


class JobStatus(BaseModel):
    id: str
    state: Literal["queued", "running", "done"]
    total: int = Field(description="Items in the job.")
    done: int = Field(description="Items answered so far.")
    counts: dict[Status, int] | None = Field(None, description="Results by status (when done).")
    created_at: datetime
    expires_at: datetime = Field(description="After this the job and its results are gone (404).")
    results: list[ItemResult] | None = Field(None, description="In item order, when done.")


def _store(request: Request) -> JobStore:
    return request.app.state.jobs


@router.post("/jobs", status_code=202, response_model=JobCreated, summary="Grade a batch in the background")
async def create_job(body: ScoreRequest, request: Request, response: Response, settings: SettingsDep,
                     owner: CallerDep,
                     idempotency_key: Annotated[str | None, Header(max_length=256)] = None) -> JobCreated:
    if len(body.items) > settings.max_items:
        raise RequestTooLarge(f"{len(body.items)} items; at most {settings.max_items} per request")
    recipe = resolved_recipe(request, body.recipe)
    job_id = await _store(request).submit(body.items, recipe, owner, idempotency_key)
    response.headers["Location"] = f"/jobs/{job_id}"
    return JobCreated(id=job_id, url=f"/jobs/{job_id}")


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="A job's progress, and its results when done")
async def get_job(job_id: str, request: Request, owner: CallerDep) -> JobStatus:
    job = await _store(request).get(job_id, owner)
    counts: dict[Status, int] | None = None
    if job.results is not None:
        counts = {}
        for result in job.results:
            counts[result.status] = counts.get(result.status, 0) + 1
    return JobStatus(id=job.id, state=job.state, total=job.total, done=job.done, counts=counts,
                     created_at=datetime.fromtimestamp(job.created, UTC),
                     expires_at=datetime.fromtimestamp(job.expires, UTC), results=job.results)
