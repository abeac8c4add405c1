"""The backend interface, and the pipe session that bubblewrap and the local runner share."""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.limits import Limits

if TYPE_CHECKING:
    from sandbox.compile_cache import CompileCache

RUNNER = Path(__file__).resolve().parents[1] / "runner.py"
RUNNER_SHARE_MB = 64  # the runner's (and its zygote's) own memory, on top of the program's, in a sandbox's limit


class SandboxUnavailable(RuntimeError):
    """The backend cannot run anything (engine down, binary missing, image not built)."""


class SessionBroken(RuntimeError):
    """The runner stopped answering: it died (possibly killed by the program) or ran past its deadline."""


class Session(Protocol):
    """One submission's channel to a runner: ``send`` the job and each test, ``recv`` each answer, ``close``
    (which ends the session; ``anomaly`` says the runner cannot be trusted to be in sync any more). The
    messages are the runner's protocol (typed in :mod:`sandbox.runner`)."""

    def send(self, message: Mapping[str, Any]) -> None: ...
    def recv(self, timeout: float) -> dict[str, Any]: ...
    def close(self, anomaly: bool = False) -> None: ...


class Backend(Protocol):
    name: str
    # rlimits the runner must apply because the backend has no cgroup for them
    address_space_rlimit: bool
    nproc_rlimit: bool
    workdir_base: str
    # directories the runner empties after each session, killing every process it did not start first;
    # None when the sandbox dies with the session anyway (or must not be swept: the unsafe local runner)
    sweep: tuple[str, ...] | None
    toolchain: str  # what compiles run with (Docker's image; "host": the host's /usr): part of a compile's key
    compile_cache: CompileCache | None  # compiles kept for this backend's later sessions; None: none kept

    def session(self, limits: Limits) -> Session: ...
    def describe(self) -> str: ...  # which isolation and limits apply, one line for readiness reports
    def close(self) -> None: ...


class CompileMemory:
    """A live sandbox's memory limit: the run's, raised to the compile's for the compile (g++ on template-heavy
    code needs far more than the programs it builds) and lowered when the compile answers. ``apply`` sets a
    limit in MiB; it is retried, since memory a compiler just freed may take a moment to uncharge. Tests
    follow a compile that worked, so a failure to lower then is ours (SessionBroken); after a failed compile
    nothing runs, and ``raised`` stays True: the owner discards the sandbox rather than hand it on."""

    TRIES = 5

    def __init__(self, apply: Callable[[int], None] | None, limits: Limits) -> None:
        self.apply, self.limits, self.raised = apply, limits, False

    def before(self, message: Mapping[str, Any]) -> None:
        if self.apply and message.get("compile") and self.limits.compile_memory_mb > self.limits.memory_mb:
            self._set(self.limits.compile_memory_mb)
            self.raised = True

    def after(self, message: dict[str, Any]) -> None:
        if self.raised and "compile" in message:
            try:
                self._set(self.limits.memory_mb)
                self.raised = False
            except SessionBroken:
                if (message["compile"] or {}).get("ok"):
                    raise

    def _set(self, memory_mb: int) -> None:
        assert self.apply is not None
        for attempt in range(self.TRIES):
            try:
                self.apply(memory_mb)
                return
            except Exception as exc:  # the cgroup's OSError, the Docker engine's and its socket's errors
                if attempt == self.TRIES - 1:
                    raise SessionBroken(f"could not set the sandbox's memory limit: {exc}") from exc
                time.sleep(0.05 * (attempt + 1))


END_TIMEOUT_S = 5.0  # how long the runner may take to clean up after a session


class LineReader:
    """Splits bytes from a stream into JSON lines, with a deadline on each line."""

    def __init__(self, read: Any, wait: Any) -> None:
        self._read, self._wait = read, wait  # read() -> bytes ('' at EOF); wait(seconds) -> readable?
        self._buf = bytearray()

    def line(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait(left):
                raise SessionBroken(f"runner gave no answer within {timeout:.1f} s")
            chunk = self._read()
            if not chunk:
                raise SessionBroken("runner ended without answering")
            self._buf += chunk
        line, _, rest = self._buf.partition(b"\n")
        self._buf = bytearray(rest)
        try:
            return json.loads(line)
        except ValueError as exc:
            raise SessionBroken(f"runner said something that is not JSON: {bytes(line[:100])!r}") from exc


class PipeSession:
    """A runner in a child process for one session, talked to over its stdin/stdout."""

    _finished: list[tuple[float, subprocess.Popen]] = []  # closed, not yet reaped (see _reap_finished)
    _finished_lock = threading.Lock()

    def __init__(self, argv: list[str], **popen: Any) -> None:
        self._reap_finished()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True, **popen)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        self._reader = LineReader(lambda: os.read(fd, 65536), lambda t: bool(select.select([fd], [], [], t)[0]))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, message: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SessionBroken("runner is gone") from exc

    def recv(self, timeout: float) -> dict[str, Any]:
        message = self._reader.line(timeout)
        if message.get("end"):
            raise SessionBroken("the runner ended the session early")
        return message

    def close(self, anomaly: bool = False) -> None:
        """End the session. The runner exits at end of input, and with it the sandbox (under bwrap the
        runner is PID 1: the kernel kills whatever is left in its namespace). An anomaly kills it now."""
        if not anomaly:
            try:
                self.send({"stop": True})
                anomaly = self._reader.line(END_TIMEOUT_S).get("end") is not True
            except SessionBroken:
                anomaly = True
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if anomaly:
            self._kill(self.proc)
        else:  # reaped later, so that the caller does not wait for the process to exit
            with self._finished_lock:
                self._finished.append((time.monotonic(), self.proc))

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()

    @classmethod
    def _reap_finished(cls) -> None:
        """Reap runners that have exited; kill any still there a second after its session ended."""
        now = time.monotonic()
        with cls._finished_lock:
            left = []
            for closed, proc in cls._finished:
                if proc.poll() is None:
                    if now - closed < 1.0:
                        left.append((closed, proc))
                    else:
                        cls._kill(proc)
            cls._finished[:] = left
