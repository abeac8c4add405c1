"""A pool of grader processes with a hard wall-clock limit per job.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot kill one stuck task. Here each worker owns a
pipe; a job that runs past its limit gets its process SIGKILLed and replaced, and the caller gets
:class:`JobTimeout`. A worker that dies mid-job (segfault, OOM kill) gives :class:`WorkerCrashed`. Workers are
forked from a forkserver that has the graders imported, so a replacement starts in milliseconds and the
parent's threads (uvicorn, the executor) never leak into a fork.
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
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

_PRELOAD = ["reward_service.grading.warm"]  # graders imported and warmed once, in the forkserver


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
                 memory_limit_mb: int | None = None, name: str = "graders") -> None:
        self.size = size
        self._initializer = initializer
        self._memory_limit_mb = memory_limit_mb
        self._start_timeout = start_timeout
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
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
        with self._lock:
            self._all.discard(worker)
            self.replaced += 1

        def respawn() -> None:
            while not self._closed:
                try:
                    self._idle.put(self._spawn())
                    return
                except Exception:  # keep the pool at full size; a failed start is retried
                    if not self._closed:
                        log.exception("could not start a replacement grader process; retrying")
        thread = threading.Thread(target=respawn, name="respawn", daemon=True)
        self._respawns.append(thread)
        thread.start()

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
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.run, fn, args, timeout)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        for thread in self._respawns:
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
