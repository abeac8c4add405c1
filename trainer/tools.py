"""A Python tool for GRPO rollouts, backed by the service's sandbox sessions (TRL's ``environment_factory``).

TRL makes one environment per rollout of a batch (pooled, ``reset`` before each rollout) and offers the
policy every public method as a tool, described by its signature and docstring. :class:`PythonSandbox` has
one: ``python(code)``. Each rollout has a session (a Python process in a sandbox of its own) that all its
calls run in, so variables, imports and files persist from one turn to the next. TRL calls tools one
rollout after another, so a sandbox's start-up would be paid in series on every step: the session is opened
ahead, in the background, when ``reset`` starts the rollout (``open_ahead``; else on its first call). It is
closed, in the background too, on the next ``reset`` and at the end of training (:class:`CloseSandboxes`),
and the service's idle TTL ends any that a crash leaves behind.

A tool never raises into TRL: a sandbox that cannot be reached, a session at the service's cap (429 after
the client's retries) or one that ended (410) are a tool result that says so, and one ERROR line per outage
in the log. The program's own errors (a traceback, a timeout) are what the policy should see, so they are
its result too.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from transformers import TrainerCallback

from reward_service.client import RewardClient, RewardServiceError
from reward_service.schemas import tool_output_text
from trainer.config import ServiceConfig, ToolsConfig

logger = logging.getLogger("trainer.tools")


@dataclass
class SandboxStats:
    """Counts of one run's tool use, shared by its environments (for logs and tests)."""

    calls: int = 0             # python() calls
    sessions: int = 0          # sessions that calls ran in (one per rollout that called the tool)
    failures: int = 0          # calls answered with a sandbox error instead of running
    down: bool = False         # inside an outage (one ERROR line each)

    def failed(self, why: str) -> str:
        self.failures += 1
        if not self.down:
            logger.error("SANDBOX UNAVAILABLE for the python tool: %s. Its calls are answered with this error "
                         "until it is back; training continues.", why)
        self.down = True
        return f"error: the sandbox is unavailable ({why})"

    def ok(self) -> None:
        if self.down:
            logger.warning("the sandbox is back for the python tool after %d failed calls", self.failures)
        self.down = False


class PythonSandbox:
    """One rollout's Python tool (TRL environment): public methods other than ``reset`` are tools."""

    def __init__(self, factory: SandboxFactory) -> None:
        self._factory, self._client, self._cfg, self._stats = factory, factory.client, factory.cfg, factory.stats
        self._opening: Future[str] | None = None   # the session being opened ahead, at reset
        self._session: str | None = None

    def reset(self, **row: Any) -> None:
        """A new rollout: the previous one's session is closed (nothing carries over), and with
        ``open_ahead`` this one's is opened in the background while the policy generates."""
        self._close()
        if self._cfg.open_ahead:
            self._opening = self._factory.pool.submit(self._factory.open)

    def python(self, code: str) -> str:
        """Run Python code in this conversation's sandbox and return what it printed (and the value of its
        last expression). Variables, imports and files persist between calls.

        Args:
            code: Python source to run.
        """
        self._stats.calls += 1
        try:
            session = self._open()
        except RewardServiceError as exc:
            return self._stats.failed(_reason(exc))
        try:
            result = self._client.run_in_session(session, code, timeout_s=self._cfg.timeout_s)
        except RewardServiceError as exc:
            if exc.status_code in (404, 410):  # ended (crash, memory, expiry): the next call starts afresh
                self._session = None
                return f"error: the Python session ended, its state is lost ({_reason(exc)})"
            return self._stats.failed(_reason(exc))
        self._stats.ok()
        return tool_output_text(result, self._cfg.max_output_chars)

    def _open(self) -> str:
        """The rollout's session: the one opened ahead, else one opened now."""
        if self._session is None:
            opening, self._opening = self._opening, None
            self._session = opening.result() if opening is not None else self._factory.open()
            self._stats.sessions += 1
        return self._session

    def _close(self) -> None:
        """Close this rollout's session in the background (one still opening: once it is open)."""
        opening, session = self._opening, self._session
        self._opening = self._session = None
        if session is not None:
            self._factory.pool.submit(self._factory.delete, session)
        if opening is not None:
            opening.add_done_callback(self._factory.discard)


def _reason(exc: RewardServiceError) -> str:
    return f"{exc.status_code}: {exc}" if exc.status_code is not None else str(exc)


@dataclass
class SandboxFactory:
    """TRL's ``environment_factory``: every environment it makes shares one client (thread-safe), the
    threads that open and close sessions in the background, and the counts."""

    client: RewardClient
    cfg: ToolsConfig
    stats: SandboxStats = field(default_factory=SandboxStats)
    made: list[PythonSandbox] = field(default_factory=list)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "sandbox-sessions"))

    @classmethod
    def from_config(cls, service: ServiceConfig, cfg: ToolsConfig) -> SandboxFactory:
        client = RewardClient(service.url, api_key=service.resolved_api_key(), timeout=cfg.timeout_s + 30,
                              retries=service.retries, backoff=service.backoff_s)
        return cls(client, cfg)

    def __call__(self) -> PythonSandbox:
        env = PythonSandbox(self)
        self.made.append(env)
        return env

    def open(self) -> str:
        return self.client.create_session("python", **self.cfg.session)

    def delete(self, session: str) -> None:
        try:
            self.client.delete_session(session)
        except RewardServiceError as exc:  # the service down: its idle TTL ends the session
            logger.warning("closing sandbox session %s: %s", session, exc)

    def discard(self, opening: Future[str]) -> None:
        """A session opened ahead for a rollout that is over: closed once open."""
        if not opening.cancelled() and opening.exception() is None:
            self.delete(opening.result())

    def close_sessions(self) -> None:
        """Close every open session and wait for it (the end of training); the factory stays usable."""
        for env in self.made:
            env._close()
        pool, self.pool = self.pool, ThreadPoolExecutor(8, "sandbox-sessions")
        pool.shutdown(wait=True)


class CloseSandboxes(TrainerCallback):
    """Closes the run's sessions when training ends (TRL has no end-of-rollout hook: each closes on the
    next ``reset``)."""

    def __init__(self, factory: SandboxFactory) -> None:
        self.factory = factory

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.factory.close_sessions()
        stats = self.factory.stats
        logger.info("python tool: %d calls, %d sessions, %d failed", stats.calls, stats.sessions, stats.failures)


def conversational(dataset: Any, system_prompt: str | None = None) -> Any:
    """The prepared dataset with chat prompts: TRL runs tools only for conversational prompts (it parses
    the model's reply into messages with tool calls). A text question becomes the user's message; chat
    messages (which :func:`trainer.data.prepare` keeps as JSON text) stay as they were."""
    def to_chat(row: dict[str, Any]) -> dict[str, Any]:
        messages = _chat(row["question"]) or [{"role": "user", "content": row["question"]}]
        if system_prompt and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": system_prompt})
        return {"prompt": messages}
    return dataset.map(to_chat, desc="chat prompts for tools")


def _chat(question: str) -> list[dict[str, Any]] | None:
    if not question.lstrip().startswith("["):
        return None
    try:
        value = json.loads(question)
    except ValueError:
        return None
    ok = isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value)
    return value if ok else None
