"""A pool of grader processes with a hard wall-clock limit per job.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot kill one stuck task. Here each worker owns a
pipe; a job that runs past its limit gets its process SIGKILLed and replaced, and the caller gets
:class:`JobTimeout`. A worker that dies mid-job (segfault, OOM kill) gives :class:`WorkerCrashed`. Workers are
forked from a forkserver that has the graders imported, so a replacement starts in milliseconds and the
parent's threads (uvicorn, the executor) never leak into a fork. A replacement that fails to start (fork
refused, memory short) is retried with exponential backoff, and finished respawn threads are dropped: a
pool that lives for months holds no more than its size in either.
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
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

_PRELOAD = ["reward_service.grading.warm"]  # graders imported and warmed once, in the forkserver

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


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _worker_main(conn: Connection, initializer: str | None, memory_limit_mb: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which closes us
    if memory_limit_mb:  # a runaway sympy computation gets MemoryError, not the machine's OOM killer
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if initializer:
        _resolve(initializer)()
    functions: dict[str, Any] = {}
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn_name, args = job
        try:
            fn = functions.get(fn_name) or functions.setdefault(fn_name, _resolve(fn_name))
            conn.send(("ok", fn(*args)))
        except Exception as exc:  # reported to the caller, the worker lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, ctx: Any, initializer: str | None, start_timeout: float, memory_limit_mb: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, initializer, memory_limit_mb), daemon=True)
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
    """``size`` grader processes; :meth:`run` blocks, :meth:`arun` awaits (via a bounded thread executor)."""

    def __init__(self, size: int, *, initializer: str | None = None, start_timeout: float = 120.0,
                 memory_limit_mb: int | None = None, name: str = "graders",
                 respawn_backoff: tuple[float, float] = (0.1, 30.0)) -> None:
        self.size = size
        self._backoff = respawn_backoff  # (first delay, longest delay) between failed respawns
        self._initializer = initializer
        self._memory_limit_mb = memory_limit_mb
        self._start_timeout = start_timeout
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()  # wakes respawns sleeping in their backoff
        self._respawns: list[threading.Thread] = []
        self.replaced = 0  # workers killed and replaced (timeouts and crashes), for metrics and tests
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        workers = list(self._executor.map(lambda _: self._spawn(), range(size)))
        for w in workers:
            self._idle.put(w)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx, self._initializer, self._start_timeout, self._memory_limit_mb)
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

    def run(self, fn: str, args: tuple[Any, ...], timeout: float) -> Any:
        """Call ``fn`` (a dotted name) with ``args`` in a worker; kill it past ``timeout`` seconds."""
        if self._closed:
            raise PoolError("pool is closed")
        worker = self._idle.get()
        try:
            worker.conn.send((fn, args))
            if not worker.conn.poll(timeout):
                self._replace_later(worker)
                raise JobTimeout(f"grading exceeded {timeout:g} s and was killed")
            status, payload = worker.conn.recv()
        except (EOFError, OSError) as exc:
            worker.process.join(timeout=1)  # reap it, to report how it died
            code = worker.process.exitcode
            self._replace_later(worker)
            raise WorkerCrashed(f"grader process died (exit code {code})") from exc
        self._idle.put(worker)
        if status == "error":
            raise JobFailed(payload)
        return payload

    async def arun(self, fn: str, args: tuple[Any, ...], timeout: float) -> Any:
        """:meth:`run` in the pool's threads. A job cancelled before a thread takes it never runs; whoever set
        :data:`submitted` in this context sees the job's future there (to tell queued from started)."""
        job = self._executor.submit(self.run, fn, args, timeout)
        seen = submitted.get()
        if seen is not None:
            seen.append(job)
        return await asyncio.wrap_future(job)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        self._closed = True
        self._closing.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
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
