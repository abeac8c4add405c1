"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: it can grade now)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reward_service import __version__
from reward_service.api.deps import BackendDep, SettingsDep
from reward_service.schemas import Health

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz(backend: BackendDep) -> Health:
    facts = backend.describe()
    return Health(version=__version__, queue=facts["queue"], workers=facts["workers"])


@router.get("/readyz")
async def readyz(backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    """200 when the queue can grade: Redis answers and a worker is alive (Redis queue), or always (embedded).
    The sandbox is reported, not required: code items fail alone with status error when it is missing."""
    check = getattr(backend, "ready", None)
    facts: dict[str, Any] = dict(await check()) if check is not None else {"ok": True}
    facts["sandbox"] = await asyncio.to_thread(_sandbox, settings.sandbox_backend)
    ok = facts.pop("ok")
    return JSONResponse({"status": "ready" if ok else "not ready", **facts}, status_code=200 if ok else 503)


def _sandbox(backend: str) -> str:
    """Cheap by design: no container is started here."""
    if backend == "none":
        return "disabled"
    import sandbox
    return "ok" if sandbox.available(backend) else "unavailable"
