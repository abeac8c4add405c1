"""SandboxFusion's ``POST /run_code`` and ``POST /run_jupyter``, for verl, SkyRL and SandboxFusion's own client
(the key may come as the HTTP Basic password: ``http://any:KEY@host:8000/run_code``). No sandbox logic here:
:mod:`reward_service.tools` runs them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from reward_service.api.auth import CallerDep
from reward_service.tools import Tools
from reward_service.tools.wire import RunCodeRequest, RunCodeResponse, RunJupyterRequest, RunJupyterResponse

router = APIRouter(tags=["sandbox as a tool"])


def _tools(request: Request) -> Tools:
    return request.app.state.tools


@router.post("/run_code", response_model=RunCodeResponse, summary="Run a program (SandboxFusion's API)")
async def run_code(body: RunCodeRequest, request: Request, caller: CallerDep) -> RunCodeResponse:
    """Success only when it ran and exited 0 with its whole output; Failed (a compile error, a non-zero exit,
    a time limit, output cut) with the outputs kept; SandboxError only for our own failures."""
    return await _tools(request).runner.run_code(body)


@router.post("/run_jupyter", response_model=RunJupyterResponse, summary="Run notebook cells (SandboxFusion's API)")
async def run_jupyter(body: RunJupyterRequest, request: Request, caller: CallerDep) -> RunJupyterResponse:
    """The cells in order in one Python process of their own (state kept across them), closed after."""
    return await _tools(request).runner.run_jupyter(body)
