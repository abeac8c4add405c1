"""FastAPI dependencies as ``Annotated`` aliases (the app state holds what the lifespan built)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from reward_service.queue.base import GradingBackend
from reward_service.settings import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_backend(request: Request) -> GradingBackend:
    return request.app.state.backend


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BackendDep = Annotated[GradingBackend, Depends(get_backend)]
