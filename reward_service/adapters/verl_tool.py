"""verl's multi-turn tool (``BaseTool``): Python that runs in the service's stateful sandbox sessions.

In verl's ``tool_config`` YAML (``actor_rollout_ref.rollout.multi_turn.tool_config_path``)::

    tools:
      - class_name: reward_service.adapters.verl_tool.SandboxSessionTool
        config:
          type: native
          service_url: http://127.0.0.1:8000   # default $REWARD_SERVICE_URL
          # api_key: ...                       # default $REWARD_API_KEY (or $REWARD_SERVICE_API_KEY)
          timeout_s: 10                        # per call
          retries: 3                           # what surely did not run: no connection, 429, 503
          max_output_chars: 4000               # of a call's result (verl cuts at max_tool_response_length too)
          session: {ttl_s: 300}                # POST /sessions fields: ttl_s, limits, files
        # tool_schema: optional; the default is a `python` function taking `code`

**Whose session.** verl 0.9.1's tool agent loop calls ``create``, ``execute`` and ``release`` around every
single call, so a session per instance would forget everything between turns. When ``execute`` gets the
loop's ``agent_data`` (it always passes it), the session belongs to the trajectory: opened on its first call,
used by every later one (variables, imports and files persist), and closed when the trajectory is done
(its ``agent_data`` is freed), or by the service's idle TTL if that never happens. Called without
``agent_data`` (BaseTool's own contract: ``create`` once per trajectory, ``release`` at its end), the
session is the instance's and ``release`` closes it.

Nothing raises into verl: a sandbox that cannot be reached, the service's session cap (429 after the
client's retries) or a session that ended (410) come back as a tool response that says so; the program's
errors (a traceback, a timeout) are its output. ``calc_reward`` is 0: the reward is the service's
``/score`` (:mod:`reward_service.adapters.verl`). Importable without verl: stand-ins of its three classes
take their place then.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Any
from uuid import uuid4

from pydantic import BaseModel

from reward_service.client import AsyncRewardClient, RewardServiceError
from reward_service.schemas import tool_output_text

log = logging.getLogger(__name__)

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "python",
        "description": "Run Python code in this conversation's sandbox and return what it printed (and the value "
                       "of its last expression). Variables, imports and files persist between calls.",
        "parameters": {"type": "object", "required": ["code"],
                       "properties": {"code": {"type": "string", "description": "Python source to run."}}},
    },
}


class _ToolResponse(BaseModel):
    text: str | None = None
    image: list[Any] | None = None
    video: list[Any] | None = None


class _FunctionSchema(BaseModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = {}


class _ToolSchema(BaseModel):
    type: str = "function"
    function: _FunctionSchema


class _BaseTool:
    """verl's ``BaseTool.__init__``, for when verl is not installed."""

    def __init__(self, config: dict[str, Any], tool_schema: Any) -> None:
        self.config = config
        self.tool_schema = tool_schema or self.get_openai_tool_schema()
        self.name = self.tool_schema.function.name

    def get_openai_tool_schema(self) -> Any:
        return self.tool_schema


try:  # verl's own classes when it is installed: its agent loop gets exactly what it expects
    from verl.tools.base_tool import BaseTool
    from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse
except ImportError:
    BaseTool, OpenAIFunctionToolSchema, ToolResponse = _BaseTool, _ToolSchema, _ToolResponse


class SandboxSessionTool(BaseTool):
    """A ``python(code)`` tool whose state persists across a trajectory's calls (see the module docstring)."""

    def __init__(self, config: dict[str, Any], tool_schema: Any = None) -> None:
        super().__init__(config, tool_schema)
        self.url = config.get("service_url") or os.environ.get("REWARD_SERVICE_URL", "http://127.0.0.1:8000")
        self.api_key = (config.get("api_key") or os.environ.get("REWARD_API_KEY")
                        or os.environ.get("REWARD_SERVICE_API_KEY"))
        self.timeout_s = float(config.get("timeout_s", 10.0))
        self.retries = int(config.get("retries", 3))
        self.max_output_chars = int(config.get("max_output_chars", 4000))
        self.session_fields: dict[str, Any] = dict(config.get("session") or {})
        self._instances: dict[str, str | None] = {}   # instance id -> its own session (no agent_data)
        self._trajectories: dict[int, asyncio.Future[str]] = {}  # id(agent_data) -> its session, opening
        self._clients: dict[asyncio.AbstractEventLoop, AsyncRewardClient] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def get_openai_tool_schema(self) -> Any:
        return OpenAIFunctionToolSchema.model_validate(DEFAULT_SCHEMA)

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, Any]:
        instance_id = instance_id or str(uuid4())
        self._instances[instance_id] = None  # the session opens on the first call that needs it
        return instance_id, ToolResponse()

    async def execute(self, instance_id: str, parameters: dict[str, Any], **kwargs: Any) -> tuple[Any, float, dict]:
        """``metrics["status"]``: the run's (Finished, Error, TimeLimitExceeded), or ours when it did not run
        (``bad_arguments``, ``sandbox_unavailable``, ``session_ended``): codes, the text says why."""
        code = parameters.get("code")
        if not isinstance(code, str):
            return self._answer("error: the python tool takes `code`, a string of Python source", "bad_arguments")
        agent_data = kwargs.get("agent_data")
        try:
            session = await self._session(instance_id, agent_data)
            result = await self._client().run_in_session(session, code, timeout_s=self.timeout_s)
        except RewardServiceError as exc:
            if exc.status_code in (404, 410):  # ended (crash, memory, expiry): the next call starts afresh
                self._forget(instance_id, agent_data)
                return self._answer(f"error: the Python session ended, its state is lost ({_reason(exc)})",
                                    "session_ended")
            return self._answer(f"error: the sandbox is unavailable ({_reason(exc)})", "sandbox_unavailable")
        return self._answer(tool_output_text(result, self.max_output_chars), str(result.get("status")),
                            float(result.get("execution_time") or 0.0))

    @staticmethod
    def _answer(text: str, status: str, execution_time: float = 0.0) -> tuple[Any, float, dict[str, Any]]:
        return ToolResponse(text=text), 0.0, {"status": status, "execution_time": execution_time}

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        return 0.0

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        session = self._instances.pop(instance_id, None)
        if session is not None:
            await self._delete(session)

    # -- sessions ------------------------------------------------------------------------------------------

    def _client(self) -> AsyncRewardClient:
        """One client per event loop (an httpx pool belongs to the loop that made it)."""
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = AsyncRewardClient(self.url, api_key=self.api_key, timeout=self.timeout_s + 30,
                                                    retries=self.retries)
        return self._clients[loop]

    async def _session(self, instance_id: str, agent_data: Any) -> str:
        """The trajectory's session (opened once, however many of its calls run at once), or the instance's."""
        if agent_data is None:
            session = self._instances.get(instance_id)
            if session is None:
                session = self._instances[instance_id] = await self._open()
            return session
        key = id(agent_data)
        if key not in self._trajectories:
            self._trajectories[key] = asyncio.ensure_future(self._open())
            weakref.finalize(agent_data, self._trajectory_done, key, asyncio.get_running_loop())
        opening = self._trajectories[key]
        try:
            return await asyncio.shield(opening)
        except RewardServiceError:
            if self._trajectories.get(key) is opening:
                del self._trajectories[key]  # the next call tries again
            raise

    async def _open(self) -> str:
        return await self._client().create_session("python", **self.session_fields)

    def _forget(self, instance_id: str, agent_data: Any) -> None:
        if agent_data is not None:
            self._trajectories.pop(id(agent_data), None)
        elif instance_id in self._instances:
            self._instances[instance_id] = None

    def _trajectory_done(self, key: int, loop: asyncio.AbstractEventLoop) -> None:
        """The trajectory's ``agent_data`` was freed: close its session on the loop that opened it (this may
        run on any thread, from the garbage collector)."""
        opening = self._trajectories.pop(key, None)
        if opening is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._spawn_close, opening)

    def _spawn_close(self, opening: asyncio.Future[str]) -> None:
        task = asyncio.get_running_loop().create_task(self._close(opening))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, opening: asyncio.Future[str]) -> None:
        try:
            session = await opening
        except RewardServiceError:
            return  # it never opened
        await self._delete(session)

    async def _delete(self, session: str) -> None:
        try:
            await self._client().delete_session(session)
        except RewardServiceError as exc:  # the service down: its idle TTL ends the session
            log.warning("closing sandbox session %s: %s", session, exc)


def _reason(exc: RewardServiceError) -> str:
    return f"{exc.status_code}: {exc}" if exc.status_code is not None else str(exc)
