"""The app factory. Backends are built in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reward_service import __version__
from reward_service.api import errors
from reward_service.api.limits import BodySizeLimit
from reward_service.api.routes import health, openrlhf, score
from reward_service.queue.base import GradingBackend
from reward_service.settings import Settings, get_settings

log = logging.getLogger(__name__)


async def build_backend(settings: Settings) -> GradingBackend:
    """The embedded engine unless a Redis URL is set."""
    from reward_service.engine import GradingEngine
    engine = GradingEngine(settings)
    await engine.start()
    return engine


def create_app(settings: Settings | None = None, backend: GradingBackend | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = backend is None
        app.state.backend = backend if backend is not None else await build_backend(settings)
        log.info("reward service ready: %s", app.state.backend.describe())
        try:
            yield
        finally:
            if own:
                await app.state.backend.aclose()

    app = FastAPI(title="Reward service", version=__version__, lifespan=lifespan,
                  description="Rule-based, verifiable rewards for RL of reasoning models.")
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    errors.install(app)
    for module in (health, score, openrlhf):
        app.include_router(module.router)
    return app
