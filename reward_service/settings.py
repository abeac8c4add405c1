"""All settings of the service in one place: env vars prefixed ``REWARD_`` (e.g. ``REWARD_PORT=9000``)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


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
    cache_size: int = Field(200_000, ge=0, description="Entries in the in-process result cache (0 = off).")

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

    # Queue
    redis_url: str | None = Field(None, description="Redis URL; unset = embedded in-process queue.")

    @model_validator(mode="after")
    def _sane(self) -> Settings:
        if self.code_item_timeout_s < self.item_timeout_s:
            raise ValueError("code_item_timeout_s must be >= item_timeout_s")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
