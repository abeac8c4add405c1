"""The API's side of tool calls with the Redis queue: each call goes to a worker's tool host
(:mod:`reward_service.tools.host`), which runs it; the routes see the same interface as the embedded
:class:`~reward_service.tools.Tools` (``runner.run_code``, ``runner.run_jupyter``, ``sessions``).

Routing: new work (``/run_code``, ``/run_jupyter``, ``POST /sessions``) goes to the live, not draining host
with the least load (its sessions and calls in flight as it last reported them, plus this replica's calls
waiting on it), round-robin among equals. A session's id is ``<worker>.<secret>``: its calls go to that
worker's list. Before sending, and every half second while waiting, the worker's beat is checked: a worker that
died or drains answers its sessions' calls 410 at once (never after the call's own timeout); a ``/run_code``
whose worker died mid-call is SandboxFusion's ``SandboxError`` (ours, not the program's: verl retries it).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel

from reward_service import constants as k
from reward_service.errors import Gone, NotFound, ToolUnavailable
from reward_service.queue.chunks import REDIS_DOWN
from reward_service.settings import Settings
from reward_service.tools import wire
from reward_service.tools.host import dump_body, poll_s, raise_error
from reward_service.tools.sessions import NOT_FOUND

_WORKER = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")  # worker names: host-pid-random (safe in a Redis key)
INBOX_TTL_S = 300  # a dead worker's list of calls goes away by itself
FORGET_S = 600  # a host silent this long is dropped from reward:tools:hosts


class WorkerLost(Exception):
    """The worker holding the call stopped beating (died) before it answered."""


class Relay:
    """Requests to workers' tool hosts and their replies (one mechanism for every call)."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.redis, self.settings = client, settings
        self.waiting: Counter[str] = Counter()  # worker -> this replica's calls waiting on it
        self.made: dict[str, list[float]] = {}  # worker -> when this replica made sessions there, lately
        self.last_live = 0  # sessions over every live host, as last read
        self._turn = itertools.count()

    async def hosts(self) -> dict[str, dict[str, Any]]:
        """Hosts that beat lately (:func:`silence_s`) -> their reports; long-silent ones are forgotten."""
        raw = await self.redis.hgetall(k.TOOL_HOSTS)
        now, live, old = time.time(), {}, []
        for name, report in raw.items():
            facts = json.loads(report)
            if facts.get("at", 0) >= now - silence_s(self.settings):
                live[name] = facts
            elif facts.get("at", 0) < now - FORGET_S:
                old.append(name)
        if old:
            await self.redis.hdel(k.TOOL_HOSTS, *old)
        self.last_live = sum(int(f.get("sessions", 0)) for f in live.values())
        return live

    async def pick(self) -> str:
        """The least loaded live host that is not draining; 503 when there is none."""
        with _redis_errors():
            hosts = {n: f for n, f in (await self.hosts()).items() if not f.get("draining")}
        if not hosts:
            raise ToolUnavailable("no live queue worker runs tool calls: start `python -m reward_service worker` "
                                  "with a sandbox (workers with REWARD_SANDBOX_BACKEND=none run none)")
        self.made = {n: times for n, times in self.made.items() if n in hosts}
        load = {n: int(f.get("sessions", 0)) + int(f.get("calls", 0)) + self.waiting[n] + self._unreported(n, f)
                for n, f in hosts.items()}
        least = sorted(n for n in hosts if load[n] == min(load.values()))
        return least[next(self._turn) % len(least)]

    def _unreported(self, worker: str, report: dict[str, Any]) -> int:
        """Sessions made there since its report (sessions made one after another, faster than it reports,
        would otherwise all go to one worker)."""
        made = self.made.get(worker, [])
        self.made[worker] = made = [t for t in made if t > report.get("at", 0)]
        return len(made)

    def session_made(self, worker: str) -> None:
        self.made.setdefault(worker, []).append(time.time())

    async def call(self, worker: str, op: str, body: BaseModel | None, *, owner: str = "", session: str = "",
                   session_call: bool = False) -> Any:
        """Send, then wait for the reply's body, checking the worker's beat; WorkerLost when it stopped
        beating (for a session's call also when it drains, before anything is sent)."""
        request_id = uuid.uuid4().hex
        message = json.dumps({"id": request_id, "op": op, "owner": owner, "session": session,
                              "body": dump_body(body)})
        with _redis_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hget(k.TOOL_HOSTS, worker)
                pipe.rpush(k.tool_requests_key(worker), message)
                pipe.expire(k.tool_requests_key(worker), INBOX_TTL_S)
                report, _, _ = await pipe.execute()
        if not self._beating(report) or (session_call and json.loads(report).get("draining")):
            raise WorkerLost(worker)  # what was pushed: answered by its drain, or expires with the list
        self.waiting[worker] += 1
        try:
            reply = await self._wait(worker, request_id)
        finally:
            self.waiting[worker] -= 1
        if not reply.get("ok"):
            raise_error(reply)
        return reply["body"]

    async def _wait(self, worker: str, request_id: str) -> dict[str, Any]:
        """The reply; a worker that stops beating ends the wait within :func:`silence_s` and a poll."""
        give_up = time.monotonic() + 2 * max(self.settings.tool_max_timeout_s, self.settings.code_item_timeout_s) + 30
        key = k.tool_reply_key(request_id)
        while True:
            with _redis_errors():
                popped = await self.redis.blpop([key], timeout=poll_s(self.settings))
                if popped:
                    return json.loads(popped[1])
                beating = self._beating(await self.redis.hget(k.TOOL_HOSTS, worker))
            if not beating:
                raise WorkerLost(worker)
            if time.monotonic() > give_up:
                raise ToolUnavailable(f"worker {worker} gave no answer within its limits; it may be stuck")

    def _beating(self, report: str | None) -> bool:
        return report is not None and json.loads(report).get("at", 0) >= time.time() - silence_s(self.settings)


def silence_s(settings: Settings) -> float:
    """How long a tool host may go without a report before its sessions are given up: four of its beats (it
    beats every half ``heartbeat_s``), twice the graders' rule, since a 410 loses a session's state for good:
    a host whose event loop stalled for a second or two on a loaded machine keeps its sessions."""
    return 2 * settings.heartbeat_s


class RoutedRunner:
    """``/run_code`` and ``/run_jupyter`` on a worker."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def run_code(self, req: wire.RunCodeRequest) -> wire.RunCodeResponse:
        worker = await self.relay.pick()
        try:
            return wire.RunCodeResponse.model_validate(await self.relay.call(worker, "run_code", req))
        except WorkerLost:
            return wire.RunCodeResponse(status="SandboxError", message=_lost(worker), executor_pod_name=worker)

    async def run_jupyter(self, req: wire.RunJupyterRequest) -> wire.RunJupyterResponse:
        worker = await self.relay.pick()
        try:
            return wire.RunJupyterResponse.model_validate(await self.relay.call(worker, "run_jupyter", req))
        except WorkerLost:
            return wire.RunJupyterResponse(status="SandboxError", message=_lost(worker), executor_pod_name=worker)


class RoutedSessions:
    """A :class:`~reward_service.tools.sessions.SessionStore` whose sessions live on the workers."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def create(self, owner: str, req: wire.SessionCreate) -> wire.SessionCreated:
        worker = await self.relay.pick()
        try:
            created = wire.SessionCreated.model_validate(await self.relay.call(worker, "create", req, owner=owner))
        except WorkerLost:
            raise ToolUnavailable(f"{_lost(worker)}; no session was made: retry") from None
        self.relay.session_made(worker)
        return created

    async def run(self, owner: str, session_id: str, req: wire.SessionRun) -> wire.SessionRunResult:
        return wire.SessionRunResult.model_validate(await self._on_session(owner, session_id, "run", req))

    async def files(self, owner: str, session_id: str, req: wire.SessionFiles) -> wire.SessionFilesResult:
        return wire.SessionFilesResult.model_validate(await self._on_session(owner, session_id, "files", req))

    async def delete(self, owner: str, session_id: str) -> None:
        await self._on_session(owner, session_id, "delete", None)

    async def _on_session(self, owner: str, session_id: str, op: str, body: BaseModel | None) -> Any:
        """The call on the session's worker (named by its id); 410 when that worker stopped."""
        worker, dot, secret = session_id.rpartition(".")
        if not dot or not secret or not _WORKER.match(worker):
            raise NotFound(NOT_FOUND)
        try:
            return await self.relay.call(worker, op, body, owner=owner, session=session_id, session_call=True)
        except WorkerLost:
            raise Gone(f"session lived on worker {worker}, which stopped (died, or drained for a restart): "
                       "its state is gone; start a new session") from None

    def live(self) -> int:
        return self.relay.last_live

    def ended(self) -> dict[str, int]:
        return {}  # the workers add them to reward:stats: see RoutedTools.session_counts


class RoutedTools:
    """What the routes call in Redis mode (the same shape as :class:`~reward_service.tools.Tools`)."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.relay = Relay(client, settings)
        self.runner = RoutedRunner(self.relay)
        self.sessions = RoutedSessions(self.relay)

    async def session_counts(self) -> tuple[int, dict[str, int]]:
        """Live sessions summed over the live workers; ended ones by how, over every worker ever."""
        with contextlib.suppress(*REDIS_DOWN):
            await self.relay.hosts()
            stats = await self.relay.redis.hgetall(k.STATS)
            prefix = "sessions_ended:"
            return self.relay.last_live, {f[len(prefix):]: int(v) for f, v in stats.items() if f.startswith(prefix)}
        return self.relay.last_live, {}

    async def aclose(self) -> None:
        """Nothing of ours to close: the sessions live on the workers, the Redis client is the queue's."""


def _lost(worker: str) -> str:
    return f"worker {worker}, which ran the call, stopped before it answered"


@contextlib.contextmanager
def _redis_errors() -> Any:
    try:
        yield
    except REDIS_DOWN as exc:
        raise ToolUnavailable(f"queue unavailable: {type(exc).__name__}: {exc}") from exc
