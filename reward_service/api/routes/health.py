"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from reward_service import __version__
from reward_service.api.deps import BackendDep
from reward_service.schemas import Health

router = APIRouter()


@router.get("/healthz", response_model=Health)
async def healthz(backend: BackendDep) -> Health:
    facts = backend.describe()
    return Health(version=__version__, queue=facts["queue"], workers=facts["workers"])
