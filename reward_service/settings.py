"""All settings of the service in one place: env vars prefixed ``REWARD_`` (e.g. ``REWARD_PORT=9000``)."""

from __future__ import annotations

import json
import os
import re
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from reward_service.llm_judge import JudgeEndpoint
from reward_service.recipes import BUILTIN


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

    @field_validator("default_recipe")
    @classmethod
    def _known_recipe(cls, value: str) -> str:
        """A name no request could use would fail every request that names none: refuse it at start."""
        if value not in BUILTIN:
            close = get_close_matches(value, BUILTIN, n=1)
            meant = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown recipe {value!r}; {meant}known: {', '.join(sorted(BUILTIN))}")
        return value

    # Sandbox (code items)
    sandbox_backend: Literal["auto", "docker", "bwrap", "unsafe-local", "none"] = Field(
        "auto", description="'auto' takes Docker, else bubblewrap; 'unsafe-local' is for trusted code only.")
    sandbox_bwrap_rlimits_only: bool = Field(
        False, description="Let bubblewrap run without cgroups, on per-process limits only: several processes "
                           "or SysV shared memory can then exceed the memory limit together, and there is no "
                           "CPU quota. Off: without a writable cgroup hierarchy, bubblewrap refuses to start.")
    sandbox_docker_runtime: str = Field(
        "runc", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="OCI runtime of the Docker backend's sandbox containers (the sandbox reads this same "
                    "variable): 'runsc' puts each under gVisor's user-space kernel, for nodes shared with other "
                    "tenants (slower: see the README). One the engine does not know stops the start.")

    # Reward models (the [rm] extra)
    reward_models: str | None = Field(None, description="Comma-separated reward models (hub names or local paths) "
                                      "this process loads at start and serves to recipes' reward_model "
                                      "components; one that cannot be loaded stops the start.")
    reward_model_device: str = Field("auto", description="auto (a GPU when there is one), cpu, cuda, cuda:1...")

    # Reward components of the operator's own
    component_modules: str | None = Field(None, description="Comma-separated Python modules that register reward "
                                          "components (reward_service.components.register), imported at start by "
                                          "the API, every worker and every grader process; recipes may then name "
                                          "their components. A request names components, never modules. Set it "
                                          "on the API and on every worker alike.")

    @field_validator("component_modules")
    @classmethod
    def _module_names(cls, value: str | None) -> str | None:
        for name in (m.strip() for m in (value or "").split(",")):
            if name and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name):
                raise ValueError(f"{name!r} is not a module name (dotted, as you would import it)")
        return value

    def component_module_names(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in (self.component_modules or "").split(",") if m.strip())

    def redis_cells(self) -> list[str]:
        """Every Redis cell's URL, cell 0 (``redis_url``) first; empty on the embedded queue."""
        extra = [u.strip() for u in (self.redis_shard_urls or "").split(",") if u.strip()]
        return [self.redis_url, *extra] if self.redis_url else []

    def reward_model_names(self) -> list[str]:
        return [m.strip() for m in (self.reward_models or "").split(",") if m.strip()]

    # LLM judges (operator-declared)
    judges: Annotated[dict[str, JudgeEndpoint], NoDecode] = Field(
        default_factory=dict, description='JSON: judge name -> {"base_url", "model", "api_key_env", "timeout_s", '
        '"retries", "max_concurrency", "max_tokens", "max_answer_chars"}. Recipes name one ({"judge": "local"}); '
        "they can reach no other URL, key or limit. Declare the same on the API and on every worker.")
    judges_file: str | None = Field(None, description="A JSON file of more judges (same form as REWARD_JUDGES).")

    @field_validator("judges", mode="before")
    @classmethod
    def _judges_json(cls, value: Any) -> Any:
        return cls._parse_judges(value, "")

    @model_validator(mode="after")
    def _judges_from_file(self) -> Settings:
        if self.judges_file:
            try:
                text = Path(self.judges_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"REWARD_JUDGES_FILE: cannot read {self.judges_file}: {exc.strerror}") from None
            more = self._parse_judges(text, f"REWARD_JUDGES_FILE ({self.judges_file}): ")
            twice = sorted(more.keys() & self.judges.keys())
            if twice:
                raise ValueError(f"judge(s) {', '.join(twice)} declared in both REWARD_JUDGES and REWARD_JUDGES_FILE")
            self.judges = {**self.judges, **more}
        return self

    @staticmethod
    def _parse_judges(value: Any, where: str) -> dict[str, JudgeEndpoint]:
        """JSON (or a dict) -> the judges, checked; a mistake is one line naming the judge and the field."""
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"{where}not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ValueError(f"{where}a JSON object of judge name -> endpoint")
        judges = {}
        for name, spec in value.items():
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
                raise ValueError(f"{where}judge name {name!r}: letters, digits, '.', '_' and '-', at most 64")
            try:
                judges[name] = JudgeEndpoint.model_validate(spec)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(map(str, first["loc"]))
                said = first["msg"].removeprefix("Value error, ")
                raise ValueError(f"{where}judge {name!r}: {field + ': ' if field else ''}{said}") from None
        return judges

    # Queue
    redis_url: str | None = Field(None, description="Redis URL; unset = embedded in-process queue.")
    redis_shard_urls: str | None = Field(None, description="More Redis servers, comma-separated: each a cell of "
                                         "its own (its stream, its jobs, its workers), redis_url being cell 0 "
                                         "(it also holds the tool hosts, rate counters and idempotency keys). "
                                         "Every API replica and worker gets the same list, in the same order.")
    worker_shard: int | None = Field(None, ge=0, description="The cell a worker grades for (an index into "
                                     "[redis_url, *redis_shard_urls]); unset: a hash of its name picks one.")
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

    # Fair share and budgets
    answer_budget_s: float = Field(3.0, ge=0, le=600, description="Math items: CPU seconds the answer's "
                                   "evaluation may take once the reference is parsed and evaluated (capped at "
                                   "item_timeout_s); past it the grader is killed and the accuracy is 0 with the "
                                   "reason, status ok, not a timeout. 0 = no budget of its own.")
    per_key_concurrency: int = Field(0, ge=0, description="Items of one API key graded at once in each grader "
                                     "pool (math, code) of the embedded queue; past it that key's items wait, "
                                     "they are not refused (0 = no cap: graders are shared fairly by grader "
                                     "time anyway). Redis workers share fairly but do not cap.")
    memory_jobs_key_share: float = Field(0.25, gt=0, le=1, description="Embedded queue with API keys: the "
                                         "share of memory_jobs_max_items one key may hold in /jobs; past it that "
                                         "key gets 429 while others still get 202 (with auth off there is one "
                                         "caller, and it may hold all of it).")

    # Framework compatibility
    extra_stop_tokens: str | None = Field(None, description="Comma-separated special tokens stripped, besides the "
                                          "known end-of-sequence, end-of-turn and padding tokens, from the end of "
                                          "every completion before grading (OpenRLHF decodes with them left in); "
                                          "details.stripped_tokens says what went. Set it on the API and on "
                                          "every worker alike.")

    # The sandbox as a tool: /run_code, /run_jupyter, /sessions (run by the API process, on sandbox_backend)
    tool_concurrency: int = Field(16, ge=1, le=1024, description="Tool sandbox calls running at once (threads: "
                                  "each holds one while its code runs; the event loop never waits on one); more "
                                  "wait their turn. Every sandbox has its own CPU quota and memory limit, so this "
                                  "bounds memory and processes; 16 keeps 2 cores busy with room for start-ups.")
    tool_max_timeout_s: float = Field(60.0, gt=0, le=600, description="The most a caller gets for run_timeout, "
                                      "compile_timeout, cell_timeout and a session run's timeout_s; more is cut "
                                      "to it (a policy may ask for an hour). 60: what a code item's test may ask.")
    tool_max_memory_mb: int = Field(1024, ge=32, le=65536, description="The most memory (MiB) a caller gets: "
                                    "memory_limit_MB or a session's limits.memory_mb above it, and "
                                    "SandboxFusion's -1 ('no limit'), are cut to it. 1024: verl's default ask.")
    tool_max_files: int = Field(64, ge=0, le=10_000, description="At most this many paths in files or "
                                "fetch_files of one request (422 naming the field).")
    tool_max_file_bytes: int = Field(8 * 1024 * 1024, ge=0, description="Bytes (decoded) of all the files one "
                                     "request uploads, at most (422 naming the file past it): they land in the "
                                     "sandbox's 64 MiB scratch space, beside what the program writes.")
    session_ttl_s: float = Field(300.0, gt=0, le=86_400, description="A session not called for this long is "
                                 "closed and all its state dropped (its next call: 410, then 404); each call "
                                 "starts the count again. A caller may ask for another ttl_s, up to "
                                 "session_max_ttl_s. 300: a rollout's turns come seconds apart.")
    session_max_ttl_s: float = Field(3600.0, gt=0, le=7 * 86_400, description="A session's whole life at most, "
                                     "however busy (then 410), and the longest ttl_s a caller may ask: a "
                                     "leaked session cannot hold a sandbox for ever.")
    sessions_per_key: int = Field(64, ge=1, description="Live sessions one API key may hold; past it 429 with "
                                  "Retry-After (when its soonest session expires). 64: a rollout batch's "
                                  "concurrent tool calls on one trainer.")
    sessions_max: int = Field(256, ge=1, description="Live sessions in this process, all keys together; past it "
                              "429. Each holds a Python process in a sandbox of its own (idle: tens of MB).")

    # Operations
    log_format: Literal["json", "text"] = Field("json", description="json: one object per line, with the "
                                                                    "request id; text: for humans.")
    metrics_port: int | None = Field(None, ge=1, le=65535, description="Serve /metrics on this port alone (same "
                                     "host, no key: expose it to Prometheus only) and not on the API port. "
                                     "Unset: /metrics is on the API port and needs a key when keys are on.")

    @model_validator(mode="after")
    def _sane(self) -> Settings:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("metrics_port must differ from port")
        if self.code_item_timeout_s < self.item_timeout_s:
            raise ValueError("code_item_timeout_s must be >= item_timeout_s")
        if self.session_ttl_s > self.session_max_ttl_s:
            raise ValueError("session_ttl_s must be <= session_max_ttl_s")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        if self.redis_shard_urls and not self.redis_url:
            raise ValueError("redis_shard_urls needs redis_url (cell 0)")
        cells = self.redis_cells()
        if any(not u.startswith(("redis://", "rediss://", "unix://")) for u in cells):
            raise ValueError("every redis_shard_urls entry must start with redis://, rediss:// or unix://")
        if len(set(cells)) < len(cells):
            raise ValueError("redis_url and redis_shard_urls must name different Redis servers")
        if self.worker_shard is not None and cells and self.worker_shard >= len(cells):
            raise ValueError(f"worker_shard {self.worker_shard} is past the {len(cells)} Redis cells")
        if PLACEHOLDER_KEY in (self.api_keys or "").replace(" ", "").split(","):
            raise ValueError(f"REWARD_API_KEYS still holds the placeholder {PLACEHOLDER_KEY!r} from .env.example; "
                             "set a real key: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
