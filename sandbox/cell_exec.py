"""The cell executor of a :class:`sandbox.tool.Repl`: a Python process in a sandbox of its own that runs cells
with their state kept, as a notebook kernel does. Never imported by the host: it is sent as a program file
and run by the sandbox's python3 (a streaming run, :mod:`sandbox.stream`), so it needs nothing but the
standard library, and it runs the caller's code: whatever it says is checked by the host.

Protocol: one JSON line each way, on private duplicates of the stdin and stdout it started with.
    executor → {"ready": true}   (once, at start)
    host → {"code": str, "stdin": str, "timeout_s": float, "output_bytes": int}
    executor → {"status": "Finished" | "Error" | "TimeLimitExceeded", "stdout": str, "stderr": str,
                "display": [{"text/plain": str}], "error": str | null, "execution_time": float,
                "truncated": bool, "stdout_bytes": int, "stderr_bytes": int}
    host → {"fetch": [path], "max_bytes": int}
    executor → {"files": {path: base64}}
The protocol stays off the program's output: fds 0, 1 and 2 are fresh memory files for each cell (the cell's
stdin, and what it writes by print, os.write(1, ...) or through a subprocess), read back after it, bounded.
All cells share one globals dict (the ``__main__`` module) and the working directory, so variables, imports
and files persist. The value of a cell's last expression is displayed (its repr), as IPython does. A cell
runs under a timer (``setitimer``) that raises in it; one that blocks the signal, or swallows the exception
and goes on, is killed by the host, and the session with it.
"""

from __future__ import annotations

import sys

_PATH0 = sys.path.pop(0) if sys.path else ""  # the work dir: the caller's files must not shadow our imports
import ast  # noqa: E402
import base64  # noqa: E402
import builtins  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402
from typing import IO, Any  # noqa: E402

sys.path.insert(0, _PATH0)  # a cell may import the files it was given, as ``python3 main.py`` could

ERROR_CHARS = 2000  # of a cell's ``error`` line


class CellTimeout(BaseException):
    """Raised in a cell by the timer; a BaseException, so that ``except Exception`` in the cell lets it by."""


class _Alarm:
    armed = False  # raise in the cell (the timer may fire just after it ended: then nothing happens)


def _on_alarm(signum: int, frame: types.FrameType | None) -> None:
    if _Alarm.armed:
        raise CellTimeout


def _arm(timeout: float) -> None:
    """The cell's timer, set whatever an earlier cell did to the signal (blocked it, left it pending,
    changed its handler)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    signal.sigtimedwait({signal.SIGALRM}, 0)  # one that fired while a cell blocked it: not this cell's
    signal.signal(signal.SIGALRM, _on_alarm)
    _Alarm.armed = True
    signal.setitimer(signal.ITIMER_REAL, timeout)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _redirect(stdin: bytes) -> None:
    """Fresh memory files on fds 0, 1 and 2 (the cell's stdin on 0), and sys.std* on them: what an earlier
    cell left running writes to its own cell's files, never to this one's."""
    for target, data in enumerate((stdin, b"", b"")):
        fd = os.memfd_create(f"cell-{target}", os.MFD_CLOEXEC)
        _write_all(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(fd, target)  # inheritable: a subprocess writes here too
        os.close(fd)
    sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)


def _collect(fd: int, bound: int) -> tuple[str, int]:
    """(the first ``bound`` bytes written to ``fd`` as text, how many were written); ("", 0) if the cell
    closed it or put something else there."""
    try:
        size = os.fstat(fd).st_size
        data = bytearray()
        while len(data) < min(size, bound):
            chunk = os.pread(fd, min(size, bound) - len(data), len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        return "", 0
    return bytes(data).decode("utf-8", "replace"), size


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # the cell closed or replaced it, or filled the file size limit
            pass


def _split(code: str, name: str) -> tuple[types.CodeType, types.CodeType | None]:
    """The cell compiled: its statements, and its last expression apart (to display its value) unless the
    cell ends with ``;`` (IPython's way to ask for no display)."""
    tree = ast.parse(code, name)
    final = tree.body[-1] if tree.body else None
    if not isinstance(final, ast.Expr) or code.rstrip().endswith(";"):
        return compile(tree, name, "exec"), None
    tree.body.pop()
    return compile(tree, name, "exec"), compile(ast.Expression(final.value), name, "eval")


def _encode(text: str) -> bytes:
    """UTF-8 of text that came as JSON: a lone surrogate is the byte surrogateescape stands for, or itself."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _described(exc: BaseException) -> str:
    try:
        message = str(exc)
    except BaseException:
        message = "<the exception's message could not be made>"
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:ERROR_CHARS]


def _print_traceback(exc: BaseException, last: str | None = None) -> None:
    """The traceback as Python prints it, to the cell's stderr: the frames from the cell's first on, none of
    this file's (nor the compiler's, for a syntax error), and ``last`` as its last line when given."""
    try:
        shown = traceback.TracebackException.from_exception(exc)
        frames = list(shown.stack)
        first = next((i for i, frame in enumerate(frames) if frame.filename.startswith("<cell-")), len(frames))
        shown.stack = traceback.StackSummary.from_list(
            [frame for frame in frames[first:] if frame.filename != __file__])
        lines = list(shown.format())
        if last is not None:
            lines[-1] = last + "\n"
        sys.stderr.write("".join(lines))
    except BaseException:
        pass


class Executor:
    def __init__(self) -> None:
        self.requests: IO[bytes] = os.fdopen(os.dup(0), "rb")
        self.answers = os.dup(1)
        self.errors = os.dup(2)  # the runner's stderr: where a failure of ours is said before we exit
        self.work = os.getcwd()
        self.main = types.ModuleType("__main__")
        self.main.__dict__["__builtins__"] = builtins
        self.cells = 0

    def send(self, answer: dict[str, Any]) -> None:
        _write_all(self.answers, json.dumps(answer).encode() + b"\n")

    def _execute(self, code: str, name: str, bound: int) -> tuple[list[dict[str, str]], bool]:
        """Run the cell; (what it displays, whether that was cut at ``bound`` characters)."""
        statements, last = _split(code, name)
        exec(statements, self.main.__dict__)
        if last is None:
            return [], False
        value = eval(last, self.main.__dict__)
        if value is None:
            return [], False
        text = repr(value)
        return [{"text/plain": text[:bound]}], len(text) > bound

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """One cell, under its timer; its outcome and what it wrote."""
        code, bound, timeout = str(request["code"]), int(request["output_bytes"]), float(request["timeout_s"])
        self.cells += 1
        name = f"<cell-{self.cells}>"
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # source lines in tracebacks
        _redirect(_encode(str(request.get("stdin") or "")))
        sys.modules["__main__"] = self.main
        status, error, cut = "Finished", None, False
        display: list[dict[str, str]] = []
        started = time.perf_counter()
        try:
            try:
                _arm(timeout)
                display, cut = self._execute(code, name, bound)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                _Alarm.armed = False
        except CellTimeout as exc:
            status, error = "TimeLimitExceeded", f"TimeoutError: the cell ran longer than {timeout:g} s"
            _print_traceback(exc, error)
        except BaseException as exc:  # SystemExit too: the session goes on, as in a notebook
            status, error = "Error", _described(exc)
            _print_traceback(exc)
        elapsed = time.perf_counter() - started
        if elapsed >= timeout and status != "TimeLimitExceeded":  # it swallowed the timer's exception
            status, error = "TimeLimitExceeded", f"TimeoutError: the cell ran longer than {timeout:g} s"
        _flush()
        (stdout, out_size), (stderr, err_size) = _collect(1, bound), _collect(2, bound)
        return {"status": status, "stdout": stdout, "stderr": stderr, "display": display, "error": error,
                "execution_time": round(elapsed, 6), "truncated": cut or out_size > bound or err_size > bound,
                "stdout_bytes": out_size,
                "stderr_bytes": err_size}

    def fetch(self, request: dict[str, Any]) -> dict[str, Any]:
        """The files asked for that are regular files of the work dir, while they fit ``max_bytes`` together
        (the host checked the paths; a cell may have made symlinks since)."""
        budget, files = int(request["max_bytes"]), {}
        for name in request["fetch"]:
            data = _read_inside(self.work, str(name), budget)
            if data is not None:
                budget -= len(data)
                files[str(name)] = base64.b64encode(data).decode()
        return {"files": files}

    def serve(self) -> None:
        self.send({"ready": True})
        for line in self.requests:
            request = json.loads(line)
            self.send(self.fetch(request) if "fetch" in request else self.run(request))


def _read_inside(work: str, name: str, cap: int) -> bytes | None:
    """``name``'s bytes when it is a regular file inside ``work`` of at most ``cap`` bytes; else None."""
    path = os.path.join(work, name)
    if os.path.isabs(name) or not os.path.realpath(path).startswith(os.path.realpath(work) + os.sep):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = bytearray()
        while len(data) <= cap:
            chunk = os.read(fd, cap + 1 - len(data))
            if not chunk:
                break
            data += chunk
        return bytes(data) if len(data) <= cap else None
    except OSError:
        return None
    finally:
        os.close(fd)


def main() -> None:
    executor = Executor()
    try:
        os.unlink(__file__)  # compiled already: the work dir is the caller's alone
    except OSError:
        pass
    try:
        executor.serve()
    except BaseException:
        os.write(executor.errors, traceback.format_exc()[-ERROR_CHARS:].encode("utf-8", "replace"))
        os._exit(70)
    os._exit(0)


if __name__ == "__main__":
    main()
