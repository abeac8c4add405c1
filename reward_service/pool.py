"""A pool of grader processes with a hard wall-clock limit per job.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot kill one stuck task. Here each worker owns a
pipe; a job that runs past its limit gets its process SIGKILLed and replaced, and the caller gets
:class:`JobTimeout`. A worker that dies mid-job (segfault, OOM kill) gives :class:`WorkerCrashed`. Workers are
forked from a forkserver that has the graders (and ``preload``: the components) imported, so a replacement
starts in milliseconds and the
parent's threads (uvicorn, the dispatchers) never leak into a fork. A replacement that fails to start (fork
refused, memory short) is retried with exponential backoff, and finished respawn threads are dropped: a
pool that lives for months holds no more than its size in either.

**Fair share.** :meth:`ProcessPool.arun` queues each job under its caller (an API key id); a free grader
takes the next job of the caller that has had the least grader time (:mod:`reward_service.queue.fair`), so
one caller's slow batch does not hold another's quick items behind it, and optionally no caller runs more
than ``per_caller_limit`` jobs at once.

**The answer's budget.** A job may say, part-way, "from here the time is the answer's; if I am killed for
time, answer this" (:mod:`reward_service.grading.budget`). Given a ``budget``, :meth:`ProcessPool.run` then
allows it that many seconds more (within its limit) and on expiry kills it and raises :class:`OverBudget`
with that answer, instead of :class:`JobTimeout`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing as mp
import os
import queue
import resource
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from multiprocessing.connection import Connection
from typing import Any

from reward_service.grading import budget as answer_budget
from reward_service.queue.fair import ANONYMOUS, FairQueue, Ticket

log = logging.getLogger(__name__)

GRADERS = ("reward_service.grading.warm", "reward_service.scoring")  # imported and warmed once, in the forkserver

submitted: ContextVar[list[Future[Any]] | None] = ContextVar("submitted", default=None)
"""Set it to a list, and :meth:`ProcessPool.arun` calls in this context append their jobs' futures to it."""


class PoolError(Exception):
    pass


class JobTimeout(PoolError):
    pass


class WorkerCrashed(PoolError):
    pass


class JobFailed(PoolError):
    """The job raised inside the worker; the message carries the remote exception."""


class OverBudget(Exception):
    """The job ran past the budget it started with :func:`~reward_service.grading.budget.answer_phase` and was
    killed; ``fallback`` is what it said to answer then."""

    def __init__(self, fallback: Any, seconds: float) -> None:
        super().__init__(f"the answer's evaluation exceeded its {seconds:g} s budget and was killed")
        self.fallback = fallback


_Job = tuple["Future[Any]", str, tuple[Any, ...], float, float | None]  # future, fn, args, timeout, budget
BUDGET_POLL_S = 0.05  # how often a job in its answer's phase has its CPU time looked at


class _Spent:
    """CPU seconds a process has used since this was made (from /proc; wall seconds where there is none)."""

    def __init__(self, pid: int | None) -> None:
        self.pid, self.wall = pid, time.monotonic()
        self.start = self._cpu()

    def _cpu(self) -> float | None:
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, ValueError, IndexError):
            return None

    def seconds(self) -> float:
        now = self._cpu()
        if now is None or self.start is None:
            return time.monotonic() - self.wall
        return now - self.start


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _worker_main(conn: Connection, memory_limit_mb: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which closes us
    if memory_limit_mb:  # a runaway sympy computation gets MemoryError, not the machine's OOM killer
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    functions: dict[str, Any] = {}
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn_name, args, seconds = job
        answer_budget.arm(lambda verdict: conn.send(("fallback", verdict)), seconds)
        try:
            fn = functions.get(fn_name) or functions.setdefault(fn_name, _resolve(fn_name))
            conn.send(("ok", fn(*args)))
        except Exception as exc:  # reported to the caller, the worker lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            answer_budget.arm(None, None)


class _Worker:
    def __init__(self, ctx: Any, start_timeout: float, memory_limit_mb: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, memory_limit_mb), daemon=True)
        self.process.start()
        child.close()
        if not self.conn.poll(start_timeout):
            self.kill()
            raise WorkerCrashed(f"grader process did not start within {start_timeout:.0f} s")
        self.conn.recv()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class ProcessPool:
    """``size`` grader processes; :meth:`run` blocks, :meth:`arun` awaits (``size`` dispatcher threads take
    queued jobs in fair order)."""

    def __init__(self, size: int, *, start_timeout: float = 120.0, memory_limit_mb: int | None = None,
                 name: str = "graders", respawn_backoff: tuple[float, float] = (0.1, 30.0),
                 per_caller_limit: int = 0, preload: Sequence[str] = GRADERS) -> None:
        self.size = size
        self._backoff = respawn_backoff  # (first delay, longest delay) between failed respawns
        self._memory_limit_mb = memory_limit_mb
        self._start_timeout = start_timeout
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(list(preload))  # one forkserver per process: the first pool's start wins
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()  # wakes respawns sleeping in their backoff
        self._respawns: list[threading.Thread] = []
        self.replaced = 0  # workers killed and replaced (timeouts and crashes), for metrics and tests
        self._jobs: FairQueue[_Job] = FairQueue(per_caller_limit)
        self._wakeup = threading.Condition(self._lock)  # a job queued, or the pool closing
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"{name}-start") as starter:
            for worker in list(starter.map(lambda _: self._spawn(), range(size))):
                self._idle.put(worker)
        self._dispatchers = [threading.Thread(target=self._dispatch, name=f"{name}-{i}", daemon=True)
                             for i in range(size)]
        for thread in self._dispatchers:
            thread.start()

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self._start_timeout, self._memory_limit_mb)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace_later(self, worker: _Worker) -> None:
        """Kill ``worker`` now; start its replacement in the background so the caller answers at once."""
        worker.kill()
        thread = threading.Thread(target=self._respawn, name="respawn", daemon=True)
        with self._lock:
            self._all.discard(worker)
            self.replaced += 1
            self._respawns = [t for t in self._respawns if t.is_alive()]
            self._respawns.append(thread)
        thread.start()

    def _respawn(self) -> None:
        """Keep the pool at full size: start a replacement, retrying with backoff until the pool closes."""
        delay, longest = self._backoff
        while not self._closing.is_set():
            try:
                self._idle.put(self._spawn())
                return
            except Exception as exc:
                if self._closing.is_set():
                    return
                log.error("could not start a replacement grader process (%r); retrying in %.1f s", exc, delay)
                self._closing.wait(delay)
                delay = min(delay * 2, longest)

    def respawning(self) -> int:
        """Replacements still starting (or backing off)."""
        with self._lock:
            return sum(t.is_alive() for t in self._respawns)

    def run(self, fn: str, args: tuple[Any, ...], timeout: float, budget: float | None = None) -> Any:
        """Call ``fn`` (a dotted name) with ``args`` in a worker; kill it past ``timeout`` seconds, or past
        ``budget`` seconds after it starts its answer's phase (then :class:`OverBudget`)."""
        if self._closed:
            raise PoolError("pool is closed")
        worker = self._idle.get()
        try:
            worker.conn.send((fn, args, budget))
            status, payload = self._outcome(worker, timeout, budget)
        except (EOFError, OSError) as exc:
            worker.process.join(timeout=1)  # reap it, to report how it died
            code = worker.process.exitcode
            self._replace_later(worker)
            raise WorkerCrashed(f"grader process died (exit code {code})") from exc
        self._idle.put(worker)
        if status == "error":
            raise JobFailed(payload)
        return payload

    def _outcome(self, worker: _Worker, timeout: float, budget: float | None) -> tuple[str, Any]:
        """The job's final message. The worker is killed at ``timeout`` (wall clock), or once its answer's
        phase has used ``budget`` seconds of CPU: CPU, not wall time, so that a loaded machine, which slows
        every grader, never turns a right answer into a 0 (past the wall deadline with its budget unspent,
        the item is a timeout, as before)."""
        deadline, fallback, phase = time.monotonic() + timeout, None, None
        while True:
            now = time.monotonic()
            wait = deadline - now if fallback is None else min(deadline - now, BUDGET_POLL_S)
            if worker.conn.poll(max(0.0, wait)):
                status, payload = worker.conn.recv()
                if status != "fallback":
                    return status, payload
                if fallback is None and budget:  # the first one starts the answer's budget
                    phase = _Spent(worker.process.pid)
                fallback = payload
                continue
            over = phase is not None and budget is not None and phase.seconds() >= budget
            if over or time.monotonic() >= deadline:
                self._replace_later(worker)
                if over:
                    raise OverBudget(fallback, budget or 0.0)
                raise JobTimeout(f"grading exceeded {timeout:g} s and was killed")

    async def arun(self, fn: str, args: tuple[Any, ...], timeout: float, *, owner: str = ANONYMOUS,
                   budget: float | None = None) -> Any:
        """:meth:`run` in the pool's threads, queued under ``owner`` (see the module docstring). A job cancelled
        before a thread takes it never runs; whoever set :data:`submitted` in this context sees the job's
        future there (to tell queued from started)."""
        job: Future[Any] = Future()
        with self._wakeup:
            if self._closed:
                raise PoolError("pool is closed")
            self._jobs.put(owner, (job, fn, args, timeout, budget))
            self._wakeup.notify()
        seen = submitted.get()
        if seen is not None:
            seen.append(job)
        return await asyncio.wrap_future(job)

    def _dispatch(self) -> None:
        """A dispatcher thread: take the next job in fair order, run it, charge its time to its caller."""
        while (ticket := self._next()) is not None:
            job, fn, args, timeout, budget = ticket.item
            try:
                if job.set_running_or_notify_cancel():  # False: cancelled while queued, it never runs
                    try:
                        job.set_result(self.run(fn, args, timeout, budget))
                    except BaseException as exc:
                        job.set_exception(exc)
            finally:
                with self._wakeup:
                    self._jobs.done(ticket)
                    self._wakeup.notify()  # a caller at its limit may start again

    def _next(self) -> Ticket[_Job] | None:
        with self._wakeup:
            while not self._closed:
                ticket = self._jobs.pop()
                if ticket is not None:
                    return ticket
                self._wakeup.wait()
        return None

    def queued(self, owner: str | None = None) -> int:
        """Jobs waiting for a grader (of ``owner``, or of everyone)."""
        with self._lock:
            return len(self._jobs) if owner is None else self._jobs.waiting_of(owner)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            waiting = self._jobs.drain()
            self._wakeup.notify_all()
        for job, *_ in waiting:
            job.cancel()
        self._closing.set()
        with self._lock:
            respawns = list(self._respawns)
        for thread in respawns:
            thread.join(timeout=self._start_timeout)
        with self._lock:
            workers, self._all = list(self._all), set()
        for w in workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
            w.process.join(timeout=2)
            w.kill()
