"""Stateful Python sessions for multi-turn rollouts: ``POST /sessions``, ``POST /sessions/{id}/run``,
``POST /sessions/{id}/files``, ``DELETE /sessions/{id}``. A session belongs to the key that made it (another
key: 404); one that ended answers 410 with the reason, once; caps answer 429 with Retry-After."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from reward_service.api.auth import CallerDep
from reward_service.tools import SessionStore
from reward_service.tools.wire import (
    SessionCreate,
    SessionCreated,
    SessionFiles,
    SessionFilesResult,
    SessionRun,
    SessionRunResult,
)

router = APIRouter(tags=["sandbox as a tool"])


def _sessions(request: Request) -> SessionStore:
    return request.app.state.tools.sessions


@router.post("/sessions", status_code=201, response_model=SessionCreated, summary="Start a Python session")
async def create_session(body: SessionCreate, request: Request, response: Response,
                         owner: CallerDep) -> SessionCreated:
    created = await _sessions(request).create(owner, body)
    response.headers["Location"] = f"/sessions/{created.session_id}"
    return created


@router.post("/sessions/{session_id}/run", response_model=SessionRunResult, summary="Run code in a session")
async def run_in_session(session_id: str, body: SessionRun, request: Request, owner: CallerDep) -> SessionRunResult:
    """Variables, imports and files of earlier runs are there; runs of one session go one at a time."""
    return await _sessions(request).run(owner, session_id, body)


@router.post("/sessions/{session_id}/files", response_model=SessionFilesResult,
             summary="Fetch files from a session's working directory")
async def session_files(session_id: str, body: SessionFiles, request: Request,
                        owner: CallerDep) -> SessionFilesResult:
    return await _sessions(request).files(owner, session_id, body)


@router.delete("/sessions/{session_id}", status_code=204, summary="Close a session and drop all its state")
async def delete_session(session_id: str, request: Request, owner: CallerDep) -> Response:
    await _sessions(request).delete(owner, session_id)
    return Response(status_code=204)
