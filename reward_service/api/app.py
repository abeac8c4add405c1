"""The app factory. Backends are built in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from reward_service import __version__, components
from reward_service.api import auth, docs, errors, metrics
from reward_service.api.limits import BodySizeLimit
from reward_service.api.routes import health, jobs, openrlhf, score
from reward_service.api.routes import sessions as session_routes
from reward_service.api.routes import tools as tool_routes
from reward_service.queue.base import GradingBackend, SharedCounters
from reward_service.queue.jobs import JobStore, MemoryJobs
from reward_service.reward_model import RewardModels
from reward_service.settings import Settings, get_settings
from reward_service.tools import Tools
from reward_service.tools.routed import RoutedTools

log = logging.getLogger(__name__)


async def build_backend(settings: Settings, models: RewardModels) -> GradingBackend:
    """The embedded engine (grading with ``models``) unless a Redis URL is set; then the Redis queue (workers
    grade, with theirs)."""
    if settings.redis_shard_urls:
        from reward_service.queue.cells import CellQueue
        return await CellQueue.connect(settings)
    if settings.redis_url:
        from reward_service.queue.redis_queue import RedisQueue
        return await RedisQueue.connect(settings)
    from reward_service.engine import GradingEngine
    engine = GradingEngine(settings, models)
    await engine.start()
    return metrics.CountingBackend(engine)


def _job_store(backend: GradingBackend, settings: Settings, keys: auth.KeyRing) -> JobStore:
    if isinstance(backend, JobStore):  # the Redis queue keeps its jobs in Redis
        return backend
    share = settings.memory_jobs_key_share if keys.enabled else 1.0  # auth off: one caller, all of it
    return MemoryJobs(backend, settings.job_ttl_s, settings.memory_jobs_max_items, share)


def _tools(settings: Settings, backend: GradingBackend) -> Tools | RoutedTools:
    """Tool calls run by this process, or with the Redis queue by the workers (routed through Redis)."""
    from reward_service.queue.cells import CellQueue
    from reward_service.queue.redis_queue import RedisQueue
    if isinstance(backend, RedisQueue | CellQueue):  # cells: the tool hosts register in cell 0
        return RoutedTools(backend.redis, settings)
    return Tools(settings)


def create_app(settings: Settings | None = None, backend: GradingBackend | None = None,
               models: RewardModels | None = None) -> FastAPI:
    """The app; ``models``: the reward models this process serves (loaded by the CLI before it starts)."""
    settings = settings or get_settings()
    components.load(settings.component_module_names())  # the operator's components: recipes may name them

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = backend is None
        app.state.backend = backend if backend is not None else await build_backend(settings, app.state.models)
        app.state.jobs = _job_store(app.state.backend, settings, app.state.keys)
        shared = app.state.backend if isinstance(app.state.backend, SharedCounters) else None
        app.state.rate_limiter = auth.RateLimiter(settings.rate_limit_per_minute, shared)
        auth.warn_if_open(app.state.keys, settings)
        app.state.tools = _tools(settings, app.state.backend)  # /run_code, /run_jupyter, /sessions
        log.info("reward service ready: %s", app.state.backend.describe())
        try:
            yield
        finally:
            await app.state.tools.aclose()  # every session's sandbox goes with the process
            if own:
                await app.state.backend.aclose()

    app = FastAPI(title="Reward service", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Rule-based, verifiable rewards for RL of reasoning models.")
    app.state.settings = settings
    app.state.models = models if models is not None else RewardModels()
    app.state.keys = auth.KeyRing.from_settings(settings)  # a bad keys file fails here, at start-up
    app.state.registry = CollectorRegistry(auto_describe=True)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(auth.Authenticate, keys=app.state.keys, metrics_port=settings.metrics_port)  # before bodies
    app.add_middleware(metrics.RequestContext, registry=app.state.registry)  # outermost: sees every answer
    errors.install(app)
    docs.install(app)
    for module in (health, metrics):
        app.include_router(module.router)
    for module in (score, openrlhf, jobs):  # jobs' routes take the caller themselves (they own jobs by it)
        app.include_router(module.router, dependencies=[] if module is jobs else [Depends(auth.caller)])
    for module in (tool_routes, session_routes):  # the sandbox as a tool: each route takes the caller itself
        app.include_router(module.router)
    return app
