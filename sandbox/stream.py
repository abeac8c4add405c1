"""A streaming run: the host talks to a program in the sandbox while it runs.

The runner relays (see the protocol in :mod:`sandbox.runner`): what the host writes goes to the program's
stdin, and its stdout comes back as it is written. This module turns that into lines, bounded in length and
in time, on any backend's session. Assert-style tests use it to talk to their test process; interactive
problems and stateful sessions are the same shape.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from sandbox.backends.base import Session, SessionBroken

if TYPE_CHECKING:
    from sandbox.runner import Relay, Test


class LineTooLong(Exception):
    """The program wrote a line longer than the host accepts."""


class Stream:
    """One streaming test on ``session``: the program starts with ``stdin`` and runs for at most ``wall_s``."""

    def __init__(self, session: Session, stdin: str, wall_s: float, max_line_bytes: int) -> None:
        self.session, self.max_line_bytes = session, max_line_bytes
        self.result: dict[str, Any] | None = None  # the runner's answer, once the program has ended
        self._buf = bytearray()
        self._sending = threading.Lock()  # kill() may come from another thread while write() sends
        start: Test = {"stdin": stdin, "wall_s": wall_s, "stream": True}
        session.send(start)

    def write(self, text: str) -> None:
        if self.result is None:
            relay: Relay = {"in": text}
            with self._sending:
                self.session.send(relay)

    def line(self, deadline: float) -> bytes | None:
        """The program's next line of stdout (without its newline); None once it has ended (``result`` says
        how; a last line without a newline is dropped). Raises :class:`LineTooLong`, and SessionBroken when
        the runner says nothing by ``deadline`` (it answers by itself when the program's wall clock runs out)."""
        scanned = 0
        while True:
            end = self._buf.find(b"\n", scanned)
            if end != -1:
                line = bytes(self._buf[:end])
                del self._buf[:end + 1]
                return line
            scanned = len(self._buf)
            if scanned > self.max_line_bytes:
                raise LineTooLong(f"a line longer than {self.max_line_bytes} bytes")
            if self.result is not None:
                return None
            self._take(self.session.recv(max(0.0, deadline - time.monotonic())))

    def _take(self, message: dict[str, Any], keep: bool = True) -> None:
        if "out" in message:
            if keep:
                self._buf += str(message["out"]).encode("utf-8", "surrogateescape")
        else:
            if "error" in message:
                raise SessionBroken(str(message["error"]))
            self.result = message

    def kill(self) -> None:
        """End the program now, from any thread, without waiting: the reader's :meth:`line` then ends."""
        if self.result is None:
            kill: Relay = {"kill": True}
            with self._sending:
                self.session.send(kill)

    def close_stdin(self) -> None:
        """Close the program's stdin: it reads to the end of what was sent, then end of file."""
        if self.result is None:
            eof: Relay = {"eof": True}
            with self._sending:
                self.session.send(eof)

    def rest(self) -> bytes:
        """Once :meth:`line` has returned None: what the program wrote after its last newline."""
        return bytes(self._buf) if self.result is not None else b""

    def finish(self, timeout: float) -> dict[str, Any]:
        """End the program now if it still runs; the runner's answer (what it wrote meanwhile is dropped)."""
        self.kill()  # under the lock: another thread may be writing to it (an interactive exchange)
        deadline = time.monotonic() + timeout
        while self.result is None:
            self._take(self.session.recv(max(0.0, deadline - time.monotonic())), keep=False)
        self._buf.clear()
        return self.result
