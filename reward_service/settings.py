"""All settings of the service in one place: env vars prefixed ``REWARD_`` (e.g. ``REWARD_PORT=9000``)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


PLACEHOLDER_KEY = "change-me-to-a-long-random-token"  # .env.example's; never accepted as a key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REWARD_", extra="ignore")

    # HTTP
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = Field("info", description="uvicorn/logging level.")

    # Grading pool
    workers: int = Field(default_factory=_default_workers, ge=1, le=256,
                         description="Grader processes for math/format/language (CPU bound).")
    code_workers: int = Field(8, ge=1, le=256,
                              description="Concurrent code items (each mostly waits on the sandbox).")
    item_timeout_s: float = Field(10.0, gt=0, le=600,
                                  description="Hard wall-clock limit per non-code item; the grader is killed.")
    code_item_timeout_s: float = Field(120.0, gt=0, le=3600,
                                       description="Hard wall-clock limit per code item (all its tests).")
    grader_memory_mb: int = Field(4096, ge=256, description="Address-space limit of each grader process; "
                                                        "a runaway computation fails alone (status error).")
    cache_max_mb: float = Field(256, ge=0, description="Memory for the in-process result and verdict caches "
                                                   "together, by estimated size (0 = off).")

    # Request limits
    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Larger bodies get 413.")
    max_items: int = Field(8192, ge=1, description="More items in one request get 413.")
    max_completion_chars: int = Field(400_000, ge=1, description="Longer completions fail alone (invalid).")
    max_code_chars: int = Field(200_000, ge=1, description="Longer code items fail alone (invalid).")
    max_tests_per_item: int = Field(500, ge=1, description="More test cases fail the item alone (invalid).")

    default_recipe: str = Field("r1-zero", description="Recipe used when a request names none.")

    # Sandbox (code items)
    sandbox_backend: Literal["auto", "docker", "bwrap", "unsafe-local", "none"] = Field(
        "auto", description="'auto' takes Docker, else bubblewrap; 'unsafe-local' is for trusted code only.")
    sandbox_bwrap_rlimits_only: bool = Field(
        False, description="Let bubblewrap run without cgroups, on per-process limits only: several processes "
                           "or SysV shared memory can then exceed the memory limit together, and there is no "
                           "CPU quota. Off: without a writable cgroup hierarchy, bubblewrap refuses to start.")

    # Reward models (the [rm] extra)
    reward_models: str | None = Field(None, description="Comma-separated reward models (hub names or local paths) "
                                      "this process loads at start and serves to recipes' reward_model "
                                      "components; one that cannot be loaded stops the start.")
    reward_model_device: str = Field("auto", description="auto (a GPU when there is one), cpu, cuda, cuda:1...")

    # Queue
    redis_url: str | None = Field(None, description="Redis URL; unset = embedded in-process queue.")
    redis_timeout_s: float = Field(10.0, gt=0, le=300, description="Socket timeout of every Redis call.")
    chunk_size: int = Field(32, ge=1, le=4096, description="Items per queue entry (a worker's unit of work).")
    queue_max_depth: int = Field(2000, ge=1, description="Chunks waiting or in flight before new batches get "
                                                         "429 with Retry-After.")
    overload_retry_after_s: float = Field(2.0, gt=0, le=600, description="Retry-After sent with that 429.")
    score_timeout_s: float = Field(100.0, gt=0, le=3600,
                                   description="/score on the Redis path waits this long; items not answered "
                                               "by then are status 'error'. Keep it below your client's timeout.")
    visibility_timeout_s: float = Field(30.0, ge=0.5, le=3600,
                                        description="A chunk whose worker stopped heartbeating this long is "
                                                    "reclaimed (XAUTOCLAIM) by another worker.")
    max_deliveries: int = Field(3, ge=1, le=100, description="Times an item may crash a worker before it is "
                                                             "answered with status 'error'.")
    heartbeat_s: float = Field(2.0, gt=0, le=60, description="A worker counts as alive (reward_workers_alive, "
                               "/readyz, /score's 503) while its last heartbeat is this recent; it beats twice "
                               "as often. A stopping worker leaves the count at once.")
    shutdown_margin_s: float = Field(15.0, ge=0, le=3600, description="On SIGTERM a worker finishes the items it "
                                     "has started for up to code_item_timeout_s plus this, then hands back what "
                                     "is left; give the orchestrator's stop grace period at least as much.")
    job_ttl_s: int = Field(86_400, ge=10, description="How long a job's results stay readable.")
    memory_jobs_max_items: int = Field(500_000, ge=1, description="Embedded queue only: items of /jobs held in "
                                       "memory (until job_ttl_s) before new jobs get 429.")
    shared_cache_ttl_s: int = Field(86_400, ge=0, description="Redis result cache entry lifetime (0 = off).")

    # Security
    api_keys: str | None = Field(None, description="Comma-separated API keys (bearer tokens); a 'sha256:<hex>' "
                                                   "entry is a key given by its hash. Any key turns auth on.")
    api_keys_file: str | None = Field(None, description="File of API keys (same forms), one per line; '#' "
                                                        "comments. Any key turns auth on.")
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per API key per minute (0 = no limit).")

    # Operations
    log_format: Literal["json", "text"] = Field("json", description="json: one object per line, with the "
                                                                    "request id; text: for humans.")

    @model_validator(mode="after")
    def _sane(self) -> Settings:
        if self.code_item_timeout_s < self.item_timeout_s:
            raise ValueError("code_item_timeout_s must be >= item_timeout_s")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        if PLACEHOLDER_KEY in (self.api_keys or "").replace(" ", "").split(","):
            raise ValueError(f"REWARD_API_KEYS still holds the placeholder {PLACEHOLDER_KEY!r} from .env.example; "
                             "set a real key: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
