"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: it can grade now)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reward_service import __version__
from reward_service.api.deps import BackendDep
from reward_service.schemas import Health

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz(backend: BackendDep) -> Health:
    facts = backend.describe()
    return Health(version=__version__, queue=facts["queue"], workers=facts["workers"])


@router.get("/readyz")
async def readyz(backend: BackendDep, request: Request) -> JSONResponse:
    """200 when every kind of item can be graded now: the sandbox answers where code items are graded (this
    process for the embedded queue; the workers' own for the Redis queue, which also needs Redis and a live
    worker). A sandbox switched off (``none``) is reported ``disabled`` and does not make it 503; otherwise
    ``sessions`` counts the live tool sessions (this process's, or the live workers' with Redis). With keys
    on, a caller without one learns only ready or not (a probe needs no more; the backend and its limits
    are for callers)."""
    facts: dict[str, Any] = dict(await backend.ready())
    ok = facts.pop("ok")
    tools = getattr(request.app.state, "tools", None)
    if tools is not None and facts.get("sandbox") != "disabled":  # live tool sessions (Redis: the workers')
        facts["sessions"] = (await tools.session_counts())[0]
    if request.app.state.keys.enabled and getattr(request.state, "caller", None) is None:
        facts = {}
    return JSONResponse({"status": "ready" if ok else "not ready", **facts}, status_code=200 if ok else 503)
