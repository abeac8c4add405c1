"""Stateful Python sessions: one :class:`sandbox.tool.Repl` each, owned by the API key that made it.

A session is known only to its owner (another key's id is a 404, the same answer as a missing one); its calls
run one at a time (a lock each); it closes when idle for its TTL (each call starts the count again) or at
its whole-life cap, by a background task. A session that ended on its own (expired, its process died) answers
410 with the reason once, then 404; one deleted is 404 at once. Its id carries the replica that holds it
(``<replica>.<secret>``), so a call that reaches another API replica is a 410 saying so, not a 404 that looks
like a wrong id. :class:`SessionStore` is what the routes use: sessions held in another process (a worker,
routed through Redis) can come behind it later.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from reward_service.errors import Gone, InvalidInput, NotFound, Overloaded, ToolUnavailable
from reward_service.settings import Settings
from reward_service.tools import wire
from reward_service.tools.execution import ToolRunner, sandbox_errors

if TYPE_CHECKING:
    from sandbox import Limits
    from sandbox.tool import CellResult, Repl

log = logging.getLogger(__name__)
T = TypeVar("T")
Ending = Literal["expired", "died", "deleted"]

DEFAULT_RUN_TIMEOUT_S = 10.0  # SandboxFusion's run_timeout default
TOMBSTONES = 4096  # ended sessions remembered for their one 410
_ID = re.compile(r"^([0-9a-f]{8})\.[A-Za-z0-9_-]{32}$")
NOT_FOUND = "no such session (never made, deleted, ended before, or another key's)"


class SessionStore(Protocol):
    """What the /sessions routes need; ``owner`` is the caller's key id."""

    async def create(self, owner: str, req: wire.SessionCreate) -> wire.SessionCreated: ...
    async def run(self, owner: str, session_id: str, req: wire.SessionRun) -> wire.SessionRunResult: ...
    async def files(self, owner: str, session_id: str, req: wire.SessionFiles) -> wire.SessionFilesResult: ...
    async def delete(self, owner: str, session_id: str) -> None: ...
    def live(self) -> int: ...
    def ended(self) -> dict[str, int]: ...


@dataclass(eq=False)
class _Session:
    id: str
    owner: str
    repl: Repl
    ttl_s: float
    end_by: float  # monotonic: the whole-life cap
    timeout_s: float  # a run's default
    used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    deleted: bool = False

    def expires(self) -> float:
        return min(self.used + self.ttl_s, self.end_by)

    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.expires() - time.monotonic(), UTC)


class LocalSessions:
    """Sessions held in this process (both queue modes, this round)."""

    def __init__(self, runner: ToolRunner, settings: Settings, replica: str) -> None:
        self.runner, self.settings, self.replica = runner, settings, replica
        self._live: dict[str, _Session] = {}
        self._opening: Counter[str] = Counter()  # sessions being made, by owner: they count against the caps
        self._tombstones: OrderedDict[str, tuple[str, str]] = OrderedDict()  # id -> (owner, why it ended)
        self._ended: Counter[str] = Counter()
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # -- the routes' calls ------------------------------------------------------------------------------

    async def create(self, owner: str, req: wire.SessionCreate) -> wire.SessionCreated:
        s = self.settings
        files = self.runner.check_files(req.files, [])
        limits = req.limits or wire.SessionLimits()
        timeout = self.runner.timeout(limits.timeout_s or DEFAULT_RUN_TIMEOUT_S)
        sandbox_limits = self.runner.limits(timeout, limits.memory_mb)
        self._check_caps(owner)
        self._opening[owner] += 1
        try:
            repl = await self.runner.call(self._open, sandbox_limits, files)
        finally:
            self._opening[owner] -= 1
        now = time.monotonic()
        session = _Session(f"{self.replica}.{secrets.token_urlsafe(24)}", owner, repl,
                           min(req.ttl_s or s.session_ttl_s, s.session_max_ttl_s), now + s.session_max_ttl_s, timeout)
        self._live[session.id] = session
        self._start_reaper()
        return wire.SessionCreated(session_id=session.id, expires_at=session.expires_at())

    async def run(self, owner: str, session_id: str, req: wire.SessionRun) -> wire.SessionRunResult:
        self.runner.check_code(req.code)
        session = self._get(owner, session_id)
        timeout = self.runner.timeout(req.timeout_s or session.timeout_s)
        cell: CellResult = await self._serialized(session, session.repl.run, req.code, timeout_s=timeout,
                                                  stdin=req.stdin)
        if session.deleted:
            raise Gone("session deleted during this call")
        alive = session.repl.alive
        if not alive:  # the run ended it (killed at its time limit, memory): say so now, 410 on the next call
            self._background_close(self._end(session, "died", "its Python process ended during the previous run"))
        return wire.session_result(cell, alive, session.expires_at())

    async def files(self, owner: str, session_id: str, req: wire.SessionFiles) -> wire.SessionFilesResult:
        self.runner.check_files({}, req.paths, fetch_field="paths")
        session = self._get(owner, session_id)
        found: dict[str, bytes] = await self._serialized(session, session.repl.fetch, req.paths)
        return wire.SessionFilesResult(files=wire.encode_files(found))

    async def delete(self, owner: str, session_id: str) -> None:
        """Frees everything, even while a run is going on (that run answers 410). One that ended on its own
        (expired, died) is deleted too: gone is what the caller wants."""
        session = self._live.get(session_id)
        if session is not None and session.owner == owner:
            session.deleted = True
            await self._close(self._end(session, "deleted"))
            return
        tomb = self._tombstones.get(session_id)
        if tomb is not None and tomb[0] == owner:
            del self._tombstones[session_id]
            return
        self._get(owner, session_id)  # raises: 404, or 410 for another replica's

    def live(self) -> int:
        return len(self._live)

    def ended(self) -> dict[str, int]:
        return dict(self._ended)

    # -- inside ---------------------------------------------------------------------------------------------

    def _open(self, limits: Limits, files: dict[str, bytes]) -> Repl:
        from sandbox.tool import Repl
        try:
            with sandbox_errors():
                return Repl(self.runner.backend(), limits, files=files, lifetime_s=self.settings.session_max_ttl_s)
        except (InvalidInput, ToolUnavailable):
            raise
        except Exception as exc:
            log.exception("a session's sandbox did not start")
            raise ToolUnavailable(f"the session's sandbox did not start: {exc!r}") from exc

    def _check_caps(self, owner: str) -> None:
        s = self.settings
        mine = [x for x in self._live.values() if x.owner == owner]
        if len(mine) + self._opening[owner] >= s.sessions_per_key:
            raise Overloaded(f"this API key holds {s.sessions_per_key} sessions (REWARD_SESSIONS_PER_KEY): delete "
                             "one or wait for one to expire", retry_after=self._soonest(mine))
        if len(self._live) + sum(self._opening.values()) >= s.sessions_max:
            raise Overloaded(f"the service holds {s.sessions_max} sessions (REWARD_SESSIONS_MAX)",
                             retry_after=self._soonest(list(self._live.values())))

    @staticmethod
    def _soonest(sessions: list[_Session]) -> float:
        """Seconds until one of them expires (at least 1): when a slot frees, unless it is used first."""
        return max(1.0, min((x.expires() for x in sessions), default=time.monotonic() + 1) - time.monotonic())

    def _get(self, owner: str, session_id: str) -> _Session:
        session = self._live.get(session_id)
        if session is not None and session.owner == owner:
            if time.monotonic() >= session.expires() and not session.lock.locked():
                self._background_close(self._end(session, "expired"))
                raise Gone(f"session expired: {self._expiry_reason(session)}")
            if not session.repl.alive:
                self._background_close(self._end(session, "died"))
                raise Gone("session over: its Python process ended (killed at a limit, or it crashed)")
            return session
        tomb = self._tombstones.get(session_id)
        if tomb is not None and tomb[0] == owner:
            del self._tombstones[session_id]
            raise Gone(f"session over: {tomb[1]}")
        match = _ID.match(session_id)
        if session is None and tomb is None and match and match.group(1) != self.replica:
            raise Gone(f"session lives on another replica ({match.group(1)}; this is {self.replica}), or one that "
                       "restarted: send a session's calls to the API replica that made it")
        raise NotFound(NOT_FOUND)

    def _expiry_reason(self, session: _Session) -> str:
        if session.expires() >= session.end_by:
            return f"reached its whole-life cap of {self.settings.session_max_ttl_s:g} s (REWARD_SESSION_MAX_TTL_S)"
        return f"idle for {session.ttl_s:g} s (its TTL)"

    async def _serialized(self, session: _Session, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn`` on the session's Repl, one at a time; the lock is held until the thread is done, even when
        the request is cancelled, so two calls never share the process. A process gone is a 410."""
        from sandbox.tool import ReplGone
        await session.lock.acquire()
        try:
            session.used = time.monotonic()
            future = asyncio.ensure_future(self.runner.call(fn, *args, **kwargs))
        except BaseException:
            session.lock.release()
            raise
        future.add_done_callback(lambda _: self._release(session))
        try:
            return await asyncio.shield(future)
        except ReplGone as exc:
            if session.deleted:
                raise Gone("session deleted during this call") from exc
            self._background_close(self._end(session, "died"))
            raise Gone(f"session over: its Python process ended ({exc})") from exc

    @staticmethod
    def _release(session: _Session) -> None:
        session.used = time.monotonic()
        session.lock.release()

    def _end(self, session: _Session, ending: Ending, tombstone: str | None = None) -> _Session:
        """Forget it (the caller closes its Repl); with a ``tombstone`` its next call is a 410 saying that."""
        if self._live.pop(session.id, None) is None:
            return session
        self._ended[ending] += 1
        if tombstone is not None:
            self._tombstones[session.id] = (session.owner, tombstone)
            while len(self._tombstones) > TOMBSTONES:
                self._tombstones.popitem(last=False)
        return session

    def _background_close(self, session: _Session) -> None:
        task = asyncio.create_task(self._close(session))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, session: _Session) -> None:
        try:
            await asyncio.to_thread(session.repl.close)
        except Exception:
            log.exception("closing session %s failed", session.id.split(".")[0])

    # -- expiry -----------------------------------------------------------------------------------------

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_forever(), name="session-reaper")

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(1.0, self.settings.session_ttl_s / 4))
        while self._live:
            await asyncio.sleep(interval)
            await self.reap()

    async def reap(self) -> None:
        """Close what expired or whose process died; a session in a call is left to it."""
        now, done = time.monotonic(), []
        for session in list(self._live.values()):
            if session.lock.locked():
                continue
            if now >= session.expires():
                done.append(self._end(session, "expired", f"expired: {self._expiry_reason(session)}"))
            elif not session.repl.alive:
                done.append(self._end(session, "died", "its Python process ended"))
        if done:
            await asyncio.gather(*(self._close(x) for x in done))

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        sessions, self._live = list(self._live.values()), {}
        await asyncio.gather(*(self._close(x) for x in sessions), *self._closing)
