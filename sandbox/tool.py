"""The sandbox as a tool: a program run once with its files in and out (:func:`execute`, SandboxFusion's
``/run_code``), and a Python process that keeps its state from one cell to the next (:class:`Repl`, for
``/run_jupyter`` and stateful sessions). Same backends, isolation and limits as code grading; nothing of HTTP
(the service maps these to its wire shapes). Calls block: the service runs them in threads.

Outcomes are data, not exceptions: a program that fails, runs out of time or writes too much is an
:class:`Output` that says so (output past the bound is cut, with ``truncated`` and the full byte counts),
and a sandbox that fails is ``Execution.sandbox_error``. Exceptions are for the caller's own mistakes
(:class:`ToolError`), a backend that cannot start at all (SandboxUnavailable), and a Repl whose process is
gone (:class:`ReplGone`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sandbox.backends.base import Backend, SandboxUnavailable, SessionBroken
from sandbox.languages.base import Language, Program
from sandbox.limits import Limits
from sandbox.report import OUTPUT_BYTES, clip
from sandbox.sandboxed import RECV_SLACK_S, Sandboxed, job
from sandbox.stream import LineTooLong, Stream

if TYPE_CHECKING:
    from sandbox.runner import Job, Test

ToolStatus = Literal["Finished", "Error", "TimeLimitExceeded"]
STATUSES: tuple[ToolStatus, ...] = ("Finished", "Error", "TimeLimitExceeded")
MAX_FILES = 256        # files in, or paths to fetch, per call
MAX_PATH_CHARS = 1024
GRACE_S = 2.0          # how long past a cell's timeout the host waits before it kills the process
CLOSED = "the session was closed"
START_S = 10.0         # how long a Repl's process may take to start, or to answer a fetch
EXECUTOR = Program(files={"cell_exec.py": (Path(__file__).resolve().parent / "cell_exec.py").read_text()},
                   run=["python3", "cell_exec.py"], python_inproc=True)


@dataclass(frozen=True)
class Output:
    """One command's result (SandboxFusion's run_result / compile_result)."""

    status: ToolStatus      # Finished: it ended (any exit code, or killed for memory / output); TimeLimitExceeded
    execution_time: float   # seconds (wall)
    return_code: int | None  # the exit code, minus the signal that killed it; None past the time limit
    stdout: str
    stderr: str
    truncated: bool = False  # stdout or stderr cut at the bound (stdout past it also stopped the program)
    stdout_bytes: int = 0    # full sizes, before the cut: what the program wrote until it ended or was stopped
    stderr_bytes: int = 0


@dataclass(frozen=True)
class Execution:
    """One program's run: ``compile`` None for interpreted languages, ``run`` None when the compile failed."""

    compile: Output | None
    run: Output | None
    files: dict[str, bytes]           # the fetched files that exist (a missing one is simply absent)
    sandbox_error: str | None = None  # our failure (SandboxError), never the program's


@dataclass(frozen=True)
class CellResult:
    """One cell (of /run_jupyter, or a session's run)."""

    status: ToolStatus              # Error: the cell raised (error says what), TimeLimitExceeded: past timeout_s
    stdout: str
    stderr: str
    display: list[dict[str, str]]   # [{"text/plain": repr(value of the last expression)}] when it is not None
    error: str | None               # "NameError: name 'x' is not defined" (+ traceback lines in stderr)
    execution_time: float
    truncated: bool = False


class ToolError(ValueError):
    """Bad input (a path outside the work dir, files too large, a bad timeout): the message names it."""


class ReplGone(Exception):
    """The Repl's process ended (killed at a hard timeout, crashed, out of memory, closed): the session is over."""


# --- checking what a caller sends ---------------------------------------------------------------------------

def _path(field: str, path: object) -> str:
    """``path`` normalized, if it names something inside the work dir; else :class:`ToolError`."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH_CHARS or "\0" in path:
        raise ToolError(f"{field}: {str(path)[:100]!r} is not a path")
    normal = os.path.normpath(path)
    if os.path.isabs(path) or normal == "." or normal.split("/")[0] == "..":
        raise ToolError(f"{field}: {path[:100]!r} is not a relative path inside the work dir")
    return normal


def _fetched(paths: Sequence[str]) -> list[str]:
    """The paths to fetch, checked (each is answered under the name it was asked by)."""
    if isinstance(paths, str) or len(paths) > MAX_FILES:
        raise ToolError(f"fetch: a list of at most {MAX_FILES} paths")
    for path in paths:
        _path("fetch", path)
    return list(dict.fromkeys(paths))


def _given(files: Mapping[str, bytes], limits: Limits, own: Mapping[str, str]) -> dict[str, str]:
    """The caller's files as the runner takes them ({normalized path: base64}), checked: paths inside the
    work dir, none twice nor one of the program's own, at most ``file_size_mb`` together."""
    if len(files) > MAX_FILES:
        raise ToolError(f"files: at most {MAX_FILES} files")
    given: dict[str, str] = {}
    total = 0
    for path, data in files.items():
        normal = _path("files", path)
        if not isinstance(data, bytes | bytearray):
            raise ToolError(f"files: {path[:100]!r} is not bytes")
        if normal in given or normal in own or any(p.startswith(normal + "/") or normal.startswith(p + "/")
                                                    for p in given):
            raise ToolError(f"files: {path[:100]!r} clashes with another file")
        total += len(data)
        given[normal] = base64.b64encode(data).decode()
    if total > limits.file_size_mb << 20:
        raise ToolError(f"files: {total} bytes together, more than the {limits.file_size_mb} MiB allowed")
    return given


def _fetch_bytes(limits: Limits) -> int:
    """What one fetch may bring back in all: the largest file a program may write (``file_size_mb``); files
    past that, together, are left out (and bound what the host holds for one answer)."""
    return limits.file_size_mb << 20


def _decoded(files: object) -> dict[str, bytes]:
    """The runner's or the executor's {path: base64}; ValueError when it is not that."""
    if not isinstance(files, dict):
        raise ValueError("fetched files are not a mapping")
    try:
        return {str(path): base64.b64decode(data, validate=True) for path, data in files.items()}
    except (binascii.Error, TypeError) as exc:
        raise ValueError(f"fetched files are not base64: {exc}") from exc


# --- execute: one program ----------------------------------------------------------------------------------

def _output(ran: Mapping[str, Any], stderr_keep: int) -> Output:
    """The runner's answer for a compile or a run, in SandboxFusion's terms: ``Finished`` whenever the process
    ended by itself or was killed for a limit other than time (its exit code, or minus the signal, as Python's
    subprocess reports it: -9 for a memory or output kill), ``TimeLimitExceeded`` for time. ``Error`` is
    SandboxFusion's "the sandbox could not run it", which clients read as an infrastructure failure: never
    the program's doing, so never here."""
    timed_out = bool(ran.get("timed_out")) or ran.get("signal") == signal.SIGXCPU
    sig, code = ran.get("signal"), ran.get("exit")
    return_code = None if timed_out else (-int(sig) if sig is not None else code)
    stderr_bytes = int(ran.get("stderr_bytes") or 0)
    return Output("TimeLimitExceeded" if timed_out else "Finished", float(ran.get("time_s") or 0.0), return_code,
                  str(ran.get("stdout") or ""), str(ran.get("stderr") or ""),
                  bool(ran.get("output_limit")) or stderr_bytes > stderr_keep, int(ran.get("stdout_bytes") or 0),
                  stderr_bytes)


def _job(program: Program, limits: Limits, backend: Backend, given: dict[str, str]) -> Job:
    """The runner's job: no compile cache (the caller's files may change what compiles, and a tool call's
    compile output is the compiler's own), stderr kept up to the output bound, the caller's files."""
    message = job(program, limits, backend, False, None)
    message["limits"]["stderr_bytes"] = message["compile_limits"]["stderr_bytes"] = limits.output_bytes
    if given:
        message["b64files"] = given
    return message


def _run_once(sandboxed: Sandboxed, program: Program, stdin: str, given: dict[str, str],
              wanted: list[str]) -> Execution:
    limits, keep = sandboxed.limits, sandboxed.limits.output_bytes
    sandboxed.send(_job(program, limits, sandboxed.backend, given))
    built = sandboxed.recv(limits.compile_time_s + RECV_SLACK_S)["compile"]
    compiled = _output(built, keep) if program.compile else None
    if not built.get("ok"):
        return Execution(compiled, None, {})
    test: Test = {"stdin": stdin, "wall_s": limits.time_s}
    if wanted:
        test["fetch"], test["fetch_bytes"] = wanted, _fetch_bytes(limits)
    sandboxed.send(test)
    ran = sandboxed.recv(limits.time_s + RECV_SLACK_S)
    try:
        files = _decoded(ran.get("fetched") or {})
    except ValueError as exc:
        raise SessionBroken(str(exc)) from exc
    return Execution(compiled, _output(ran, keep), files)


def execute(code: str, language: Language, backend: Backend, *, stdin: str = "", limits: Limits,
            compile_timeout_s: float = 10.0, files: Mapping[str, bytes] = {},  # noqa: B006 (never mutated)
            fetch: Sequence[str] = ()) -> Execution:
    """Compile (its own timeout) and run ``code`` once with ``stdin``, in a fresh sandbox with ``limits``
    (``time_s``: the run's wall clock); ``files`` are written into the work dir first, ``fetch`` read back
    after the run. Raises :class:`ToolError` for bad input before anything runs, SandboxUnavailable when the
    backend cannot start a sandbox; a sandbox that fails later is ``sandbox_error``."""
    if not (math.isfinite(compile_timeout_s) and compile_timeout_s > 0):
        raise ToolError("compile_timeout: a positive number of seconds")
    program = language.program(code)
    given, wanted = _given(files, limits, program.files), _fetched(fetch)
    limits = replace(limits, compile_time_s=compile_timeout_s)
    try:
        sandboxed = Sandboxed(backend, limits)
    except SessionBroken as exc:
        return Execution(None, None, {}, sandbox_error=clip(f"the sandbox did not start: {exc}", OUTPUT_BYTES))
    try:
        return _run_once(sandboxed, program, stdin, given, wanted)
    except SessionBroken as exc:
        return Execution(None, None, {}, sandbox_error=clip(f"the sandbox failed: {exc}", OUTPUT_BYTES))
    finally:
        sandboxed.close()


# --- Repl: a Python process that keeps its state ---------------------------------------------------------

# Sandboxes of Repls are opened from these threads, which live as long as the process: bubblewrap's die
# with the thread that started them (--die-with-parent), and a Repl outlives the request thread that made it.
_OPENERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="repl-open")


def _ended(ran: Mapping[str, Any], limits: Limits, lifetime_s: float) -> str:
    """Why the Repl's process ended, from the runner's answer for it."""
    if ran.get("timed_out"):
        return f"the session's lifetime of {lifetime_s:g} s is over"
    if ran.get("oom"):
        return f"the session's process ran out of memory (limit {limits.memory_mb} MB) and was killed"
    sig = ran.get("signal")
    if sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the session's process was killed by {name}"
    stderr = clip(str(ran.get("stderr") or "").strip(), OUTPUT_BYTES // 2)
    return f"the session's process exited with code {ran.get('exit')}" + (f": {stderr}" if stderr else "")


def _cell(answer: Mapping[str, Any]) -> CellResult:
    """The executor's answer checked (a cell could write to its channel); ValueError when it is not one."""
    display, error = answer.get("display"), answer.get("error")
    texts = (answer.get("stdout"), answer.get("stderr"))
    if (answer.get("status") not in STATUSES or not all(isinstance(t, str) for t in texts)
            or not isinstance(display, list) or not (error is None or isinstance(error, str))
            or not all(isinstance(d, dict) and all(isinstance(v, str) for v in d.values()) for d in display)
            or not isinstance(answer.get("execution_time"), int | float)):
        raise ValueError("the session's process sent something that is not a cell's result")
    return CellResult(answer["status"], answer["stdout"], answer["stderr"], display, error,
                      float(answer["execution_time"]), bool(answer.get("truncated")))


class Repl:
    """A Python process in a sandbox of its own that runs cells with state kept (globals, imports, files in
    its cwd) for at most ``lifetime_s``. Thread-safe: calls on one Repl take turns."""

    def __init__(self, backend: Backend, limits: Limits, *, files: Mapping[str, bytes] = {},  # noqa: B006
                 lifetime_s: float) -> None:
        if not (math.isfinite(lifetime_s) and lifetime_s > 0):
            raise ToolError("lifetime: a positive number of seconds")
        given = _given(files, limits, EXECUTOR.files)
        self.limits, self.lifetime_s = limits, lifetime_s
        self._lock = threading.Lock()
        self._closing = False
        self._reason: str | None = None
        self._closed = False
        # the longest answer: three outputs at the bound as JSON (\u escapes), or the files of a fetch
        self._max_line = max(18 * limits.output_bytes, 2 * _fetch_bytes(limits)) + (1 << 20)
        try:
            self._sandboxed = _OPENERS.submit(Sandboxed, backend, limits).result()
        except SessionBroken as exc:
            raise SandboxUnavailable(f"could not start a Python session: {exc}") from exc
        self._stream: Stream | None = None
        try:
            self._start(given)
        except (SessionBroken, ReplGone) as exc:
            self._close()
            raise SandboxUnavailable(f"could not start a Python session: {exc}") from exc

    def _start(self, given: dict[str, str]) -> None:
        self._sandboxed.send(_job(EXECUTOR, self.limits, self._sandboxed.backend, given))
        self._sandboxed.recv(START_S)
        self._stream = self._sandboxed.stream("", self.lifetime_s, self._max_line)
        if self._ask(None, time.monotonic() + START_S) != {"ready": True}:
            raise ReplGone("the session's process did not start")

    @property
    def alive(self) -> bool:
        return self._reason is None

    def run(self, code: str, *, timeout_s: float, stdin: str = "") -> CellResult:
        """Run one cell. Past ``timeout_s`` it is interrupted (TimeLimitExceeded; the session goes on); a cell
        that does not stop within ``GRACE_S`` more is killed with the whole process (TimeLimitExceeded, and
        the Repl is gone). Raises :class:`ReplGone` when the process has ended (now or before)."""
        if not (math.isfinite(timeout_s) and timeout_s > 0):  # past the lifetime: the lifetime ends it
            raise ToolError("timeout: a positive number of seconds")
        if len(stdin.encode("utf-8", "surrogatepass")) > self.limits.file_size_mb << 20:  # a file in the sandbox
            raise ToolError(f"stdin: more than the {self.limits.file_size_mb} MiB allowed")
        with self._lock:
            request = {"code": code, "stdin": stdin, "timeout_s": timeout_s, "output_bytes": self.limits.output_bytes}
            started = time.monotonic()
            answer = self._ask(request, started + timeout_s + GRACE_S)
            if answer is None:
                return CellResult("TimeLimitExceeded", "", "", [], f"TimeoutError: the cell did not stop within "
                                  f"{timeout_s:g} s; the session was ended", time.monotonic() - started)
            try:
                return _cell(answer)
            except ValueError as exc:
                raise self._gone(str(exc)) from None

    def fetch(self, paths: Sequence[str]) -> dict[str, bytes]:
        """The files of the work dir at ``paths`` that exist (a missing one is simply absent). Raises
        :class:`ToolError` for a bad path, :class:`ReplGone` when the process has ended."""
        wanted = _fetched(paths)
        with self._lock:
            answer = self._ask({"fetch": wanted, "max_bytes": _fetch_bytes(self.limits)}, time.monotonic() + START_S)
            try:
                if answer is None:
                    raise ValueError("the session's process did not answer a fetch")
                return _decoded(answer.get("files"))
            except ValueError as exc:
                raise self._gone(str(exc)) from None

    def close(self) -> None:
        """End the process and its sandbox: nothing of the session survives. Idempotent. A cell that runs
        meanwhile is not waited for: its process is killed, and that call raises :class:`ReplGone`."""
        self._closing = True
        if not self._lock.acquire(blocking=False):
            stream = self._stream
            if stream is not None:
                stream.kill()  # the running call's read then ends at once
            self._lock.acquire()
        try:
            if self._reason is None:
                self._reason = CLOSED
            self._close()
        finally:
            self._lock.release()

    # -- talking to the executor (the caller holds the lock) --

    def _ask(self, request: dict[str, Any] | None, deadline: float) -> dict[str, Any] | None:
        """Send ``request`` (None: only listen) and return the executor's answer; None when none came by
        ``deadline`` (the process is killed then: the Repl is gone). Raises :class:`ReplGone`."""
        if self._reason is not None or self._stream is None:
            raise ReplGone(self._reason or "the session was never started")
        try:
            if request is not None:
                self._stream.write(json.dumps(request) + "\n")
            line = self._stream.line(deadline)
        except LineTooLong as exc:
            raise self._gone(f"the session's process sent {exc}") from None
        except SessionBroken as exc:
            if time.monotonic() < deadline:
                raise self._gone(f"the sandbox failed: {exc}") from None
            self._gone(f"a cell did not stop within its timeout and {GRACE_S:g} s more: the process was killed")
            return None
        if line is None:
            raise self._gone(_ended(self._stream.result or {}, self.limits, self.lifetime_s))
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._gone("the session's process sent something that is not a message")
        return answer

    def _gone(self, reason: str) -> ReplGone:
        """End the session for ``reason`` (or because it is being closed); the exception to raise."""
        self._reason = reason = CLOSED if self._closing else reason
        self._close()
        return ReplGone(reason)

    def _close(self) -> None:
        """End the process (killed if it still runs) and close the sandbox (discarded if out of step)."""
        stream, self._stream = self._stream, None
        if self._closed:
            return
        self._closed = True
        try:
            if stream is not None:
                self._sandboxed.finish(stream)
        except SessionBroken:
            pass
        finally:
            self._sandboxed.close()
