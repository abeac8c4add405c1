"""A worker's tool host: with the Redis queue, tool calls run on the workers (they have the sandbox), each
call on the worker the API chose, a session's calls on the worker that holds it.

One request/reply mechanism for every call: the API RPUSHes a request (JSON) onto the worker's own list
``reward:tools:req:<worker>``; the host BLPOPs it, runs it with this process's :class:`~reward_service.tools.Tools`
(the embedded mode's code: LocalSessions and the ToolRunner's threads) as a task of its own, and LPUSHes the
reply to ``reward:tools:rep:<request id>``, which expires soon after. An error travels as ``{status_code,
detail, retry_after, loc}`` and the API raises the same error again, so a call answers the same in both modes.

The host beats in ``reward:tools:hosts`` (when, draining or not, its live sessions and calls in flight): the
API routes only to hosts that beat and do not drain, and answers a session call whose host stopped beating
410 at once. On SIGTERM it says it drains at once, answers what is still in its list (410 for a session's
call, 503 for new work), finishes the calls in flight, closes its sessions and leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from reward_service import constants as k
from reward_service.errors import (
    Gone,
    GraderUnavailable,
    InvalidInput,
    NotFound,
    Overloaded,
    ServiceError,
    ToolUnavailable,
)
from reward_service.queue.chunks import REDIS_DOWN
from reward_service.settings import Settings
from reward_service.tools import Tools, wire

log = logging.getLogger(__name__)

REPLY_TTL_S = 60  # a reply nobody took (the caller went away) is dropped after this
POLL_S = 0.5  # how long one BLPOP blocks at most (well under the Redis socket timeout: see poll_s)

Call = Callable[[Tools, str, str, Any], Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class Op:
    model: type[BaseModel] | None  # the request body's model
    call: Call
    session: bool  # a call on an existing session (410 when its host stops), not new work


OPS: dict[str, Op] = {
    "run_code": Op(wire.RunCodeRequest, lambda t, owner, sid, body: t.runner.run_code(body), False),
    "run_jupyter": Op(wire.RunJupyterRequest, lambda t, owner, sid, body: t.runner.run_jupyter(body), False),
    "create": Op(wire.SessionCreate, lambda t, owner, sid, body: t.sessions.create(owner, body), False),
    "run": Op(wire.SessionRun, lambda t, owner, sid, body: t.sessions.run(owner, sid, body), True),
    "files": Op(wire.SessionFiles, lambda t, owner, sid, body: t.sessions.files(owner, sid, body), True),
    "delete": Op(None, lambda t, owner, sid, body: t.sessions.delete(owner, sid), True),
}


def poll_s(settings: Settings) -> float:
    """How long one BLPOP blocks: short, and under the client's socket timeout (``redis_timeout_s``)."""
    return min(POLL_S, settings.redis_timeout_s / 2)


# -- the messages (the API's side is reward_service.tools.routed) ---------------------------------------------

def dump_body(body: BaseModel | None) -> dict[str, Any] | None:
    """A request model as JSON-able data its model reads back (files as base64, as on the wire)."""
    if body is None:
        return None
    data = body.model_dump()
    if isinstance(data.get("files"), dict):
        data["files"] = {p: None if v is None else wire.encode_files({p: v})[p] for p, v in data["files"].items()}
    return data


def error_reply(exc: ServiceError) -> dict[str, Any]:
    if isinstance(exc, Overloaded):
        return {"ok": False, "status_code": 429, "detail": str(exc), "retry_after": exc.retry_after}
    if isinstance(exc, InvalidInput):
        return {"ok": False, "status_code": 422, "detail": str(exc), "loc": list(exc.loc)}
    codes = ((NotFound, 404), (Gone, 410), (GraderUnavailable, 503))
    code = next((c for kind, c in codes if isinstance(exc, kind)), 500)
    return {"ok": False, "status_code": code, "detail": str(exc)}


def raise_error(reply: dict[str, Any]) -> None:
    """The error a host answered, raised again as the same exception (so the same HTTP answer)."""
    code, detail = reply.get("status_code"), str(reply.get("detail"))
    if code == 429:
        raise Overloaded(detail, retry_after=float(reply.get("retry_after") or 1.0))
    if code == 422:
        raise InvalidInput(detail, *reply.get("loc", []))
    kind = {404: NotFound, 410: Gone, 503: ToolUnavailable}.get(code)  # type: ignore[arg-type]
    if kind is not None:
        raise kind(detail)
    raise RuntimeError(f"the worker failed the tool call: {detail}")


# -- the worker's loop ------------------------------------------------------------------------------------------

class ToolHost:
    """This worker's tool calls; :meth:`run` until ``stop``, then drain."""

    def __init__(self, client: Any, settings: Settings, name: str) -> None:
        self.redis, self.settings, self.name = client, settings, name
        self.tools = Tools(settings, replica=name)  # session ids are <worker name>.<secret>
        self.inbox = k.tool_requests_key(name)
        self.draining = False
        self._calls: set[asyncio.Task[None]] = set()
        self._ended_sent: Counter[str] = Counter()

    async def run(self, stop: asyncio.Event) -> None:
        beating = asyncio.create_task(self._beat(stop), name="tool-host-beat")
        try:
            await self._serve(stop)
        finally:
            try:
                await self._drain()
            finally:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating  # no beat may land after we leave
                with contextlib.suppress(*REDIS_DOWN):
                    await self.redis.hdel(k.TOOL_HOSTS, self.name)
                log.info("tool host %s stopped", self.name)

    async def _serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                popped = await self.redis.blpop([self.inbox], timeout=poll_s(self.settings))
            except REDIS_DOWN as exc:
                log.warning("tool host %s: Redis unreachable (%s); retrying", self.name, exc)
                await asyncio.sleep(1.0)
                continue
            except Exception:  # a bug or a Redis refusal: the host goes on (its callers see no beat lost)
                log.exception("tool host %s: reading its calls failed; retrying", self.name)
                await asyncio.sleep(1.0)
                continue
            if popped:
                self._start(popped[1])

    async def _drain(self) -> None:
        """Answer what waits in the list (we drain), let the calls in flight finish, close every session."""
        self.draining = True
        with contextlib.suppress(*REDIS_DOWN):
            await self._publish()
            while (raw := await self.redis.lpop(self.inbox)) is not None:
                self._start(raw)
        limit = max(self.settings.tool_max_timeout_s, self.settings.code_item_timeout_s) + self.settings.shutdown_margin_s
        if self._calls:
            await asyncio.wait(set(self._calls), timeout=limit)
        await self.tools.aclose()  # their next calls: 410 (the API sees this host gone)

    def _start(self, raw: str) -> None:
        task = asyncio.create_task(self._handle(raw))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _handle(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            request_id = str(message["id"])
        except (ValueError, KeyError, TypeError):
            log.error("tool host %s: dropping a malformed request", self.name)
            return
        reply = await self._answer(message)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.lpush(k.tool_reply_key(request_id), json.dumps(reply))
                pipe.expire(k.tool_reply_key(request_id), REPLY_TTL_S)
                await pipe.execute()
        except REDIS_DOWN as exc:  # the caller sees no reply; it gives up at its own deadline
            log.warning("tool host %s: could not reply (%s)", self.name, exc)

    async def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            op = OPS.get(str(message.get("op")))
            if op is None:
                raise InvalidInput(f"unknown tool call {message.get('op')!r}", "op")
            if self.draining:
                if op.session:
                    raise Gone(f"session lived on worker {self.name}, which stopped")
                raise ToolUnavailable(f"worker {self.name} is stopping; retry")
            body = op.model.model_validate(message.get("body")) if op.model is not None else None
            result = await op.call(self.tools, str(message.get("owner", "")), str(message.get("session", "")), body)
            return {"ok": True, "body": result.model_dump(mode="json") if result is not None else None}
        except ServiceError as exc:
            return error_reply(exc)
        except ValidationError as exc:
            return error_reply(InvalidInput(f"the request did not validate on the worker: {exc}", "body"))
        except Exception as exc:  # a bug: said, never a silent hang of the caller
            log.exception("tool host %s: %s failed", self.name, message.get("op"))
            return {"ok": False, "status_code": 500, "detail": f"worker {self.name}: {exc!r}"}

    # -- beating ----------------------------------------------------------------------------------------------

    async def _beat(self, stop: asyncio.Event) -> None:
        """Beat every half ``heartbeat_s``; the moment ``stop`` is set, beat once more saying we drain."""
        period = self.settings.heartbeat_s / 2
        while True:
            if stop.is_set():
                self.draining = True
            try:
                await self._publish()
            except REDIS_DOWN:
                pass  # the serve loop reports it
            except Exception:
                log.exception("tool host %s: beat failed", self.name)
            if self.draining:
                await asyncio.sleep(period)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=period)

    async def _publish(self) -> None:
        """Our report for the API's routing and /readyz; the sessions ended since, added to the shared stats."""
        sessions = self.tools.sessions
        report = {"at": time.time(), "draining": self.draining, "sessions": sessions.live(),
                  "calls": len(self._calls)}
        ended = Counter(sessions.ended())
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(k.TOOL_HOSTS, self.name, json.dumps(report))
            for how, count in (ended - self._ended_sent).items():
                pipe.hincrby(k.STATS, f"sessions_ended:{how}", count)
            await pipe.execute()
        self._ended_sent = ended
