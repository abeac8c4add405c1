"""The backend interface, and the pipe session that bubblewrap and the local runner share."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any, Protocol

from sandbox.limits import Limits

RUNNER = Path(__file__).resolve().parents[1] / "runner.py"


class SandboxUnavailable(RuntimeError):
    """The backend cannot run anything (engine down, binary missing, image not built)."""


class SessionBroken(RuntimeError):
    """The runner stopped answering: it died (possibly killed by the program) or ran past its deadline."""


class Session(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...
    def recv(self, timeout: float) -> dict[str, Any]: ...
    def close(self, anomaly: bool = False) -> None: ...


class Backend(Protocol):
    name: str
    # rlimits the runner must apply because the backend has no cgroup for them
    address_space_rlimit: bool
    nproc_rlimit: bool
    workdir_base: str
    sweep: bool

    def session(self, limits: Limits) -> Session: ...
    def close(self) -> None: ...


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
    """A runner in a child process, talked to over its stdin/stdout."""

    def __init__(self, argv: list[str], **popen: Any) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True, **popen)
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        self._reader = LineReader(lambda: os.read(fd, 65536), lambda t: bool(select.select([fd], [], [], t)[0]))

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SessionBroken("runner is gone") from exc

    def recv(self, timeout: float) -> dict[str, Any]:
        return self._reader.line(timeout)

    def close(self, anomaly: bool = False) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=0.05 if anomaly else 5)
        except (subprocess.TimeoutExpired, OSError):
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
