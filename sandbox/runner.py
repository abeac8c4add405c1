"""The trusted runner: runs inside the sandbox, speaks line-delimited JSON on stdin/stdout. Stdlib only, one
file (the backends copy or bind just this file into the sandbox).

Protocol (one JSON object per line; any number of sessions on one stdin, until end of input):
    host → {"files": {name: text}, "binary": {name: [base64, mode]}, "compile": argv | null, "run": argv,
            "limits": {...}, "artifacts": max_bytes | null, ...}   (a session)
    runner → {"compile": {"ok": bool, "stderr": str, "time_s": float, "artifacts": {name: [base64, mode]}, ...}}
    host → {"stdin": str, "wall_s": float}   (one per test; the expected output never comes in)
    runner → {"stdout": str, "exit": int | null, "signal": int | null, "time_s": float, ...}
    (a tool call's job may carry "b64files": {path: base64}, its test "fetch": [path]: the answer's "fetched")
    host → {"stdin": str, "wall_s": float, "stream": true}   (a streaming test: see below)
    runner → {"out": str} ... as the program writes; host → {"in": str}, {"eof": true}, {"kill": true}
    runner → the same answer as for any test, its stdout empty (it went out as {"out": ...})
    host → {"stop": true}
    runner → {"end": true, "clean": bool}   (also to a stop that ends no session: the host had nothing to run)
A streaming test keeps its program's stdin open: it gets ``stdin`` first, then whatever the host sends as
``{"in": ...}`` (``{"eof": true}`` closes it), and its stdout goes to the host as it comes, so the host can
talk to it (a test process asking for calls, an interactor, a REPL). ``{"kill": true}`` ends it early. The
host pumps; the runner only relays, under the same limits as any test. Relay messages that arrive after
the program ended are dropped.
Each program runs as a child in its own session with rlimits (CPU, file size, open files, optionally
address space and processes), a wall-clock limit (its whole process group is killed), capped output, and
peak memory from wait4. Text from JSON may hold lone surrogates: they become the bytes they stand for.
A compile keeps the head of its stderr (the first error says the most), a program the tail.

Compiled programs are cached by the host, never in here (a later submission could reach it): a job that
asks for ``artifacts`` gets, after a compile that succeeded, every new regular file of the work dir (what
the compile made, whatever the language: a binary, .class files), unless they pass ``max_bytes`` together.
They are read before any test runs, so nothing the program does can change them. A job that brings them
back (``binary``, with their modes) has no compile.

Python programs are not started by exec (an interpreter start per test): they are forked from an
interpreter that has imported the common modules. For the first submission a runner serves, that is the
runner itself (bubblewrap and the local backend start one per submission). Once it has read a job, though,
its freed memory keeps that submission's code, inputs and outputs, and a later program could scan its own
memory for a correct solution sent by another sample. So a runner that serves many (Docker's warm
containers, ``--many``) forks, before it reads any job, the *zygote*, which never holds any job data (a
fresh one, by exec, replaces one that is gone). It forks *spares*, a few at a time, through an
intermediate that exits at once, so that each spare is the runner's child (it is PID 1, and a subreaper anyway) and childless: the
runner waits for it as for any child, time, status and peak memory from its own wait4. For a test the
runner hands the waiting spare the argv, directory, environment and limits, and the program's
stdin/stdout/stderr pipes (SCM_RIGHTS), and orders more spares, made while the program runs, when that
was the last: a test costs one hand-over (and the zygote 1.25 forks, beside it).

The runner is PID 1 of its sandbox: signals from inside reach it only where it has a handler (Python
installs one for SIGINT), and it ignores those (``SHIELD``), so ``kill -9 -1`` and the like do nothing
to it. It and its helpers (the zygote, spares) are not dumpable, so programs cannot ptrace them or
open their pipes through /proc. But they run under the programs' uid, so a program can kill or stop them, or
change what their children inherit (rlimits by prlimit, nice value, scheduling policy, CPU affinity): the
runner continues them before each program and replaces one that is gone or changed. Itself it cannot repair
(an unprivileged process cannot raise a hard limit again): then every later test of the session fails as
the program's runtime error, and the sweep reports the sandbox dirty.

As PID 1, whose sandbox (pid and IPC namespaces) holds nothing but the submission, the runner also clears
it before each test: it stops every other process at once (a fork racing with that fails), kills them and
removes every SysV IPC object, so nothing one test left running (a daemon holding every pid, say) hurts the
next. With ``sweep`` set, the end of a session also empties the writable directories and reports whether
processes, IPC objects and files are all gone.

The messages are typed below (``Job``, ``Test``, ``Answer``...): the host imports these names for mypy, and
CI runs ``mypy --strict`` on this file. Annotations cost nothing here: they are never evaluated (``from
__future__ import annotations``), and ``typing`` is only the standard library's.
"""

from __future__ import annotations

import base64
import ctypes
import errno
import json
import os
import resource
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence


# --- the protocol's messages ----------------------------------------------------------------------------

Files = dict[str, tuple[str, int]]  # {name: [base64, mode]}: what a compile made (a JSON list on the wire)
Message = dict[str, Any]  # a line from the host, before it is known which message it is


class _RunLimits(TypedDict):
    wall_s: float
    cpu_s: float
    fsize_mb: int
    output_bytes: int
    address_space_mb: int | None
    nproc: int | None


class RunLimits(_RunLimits, total=False):
    """A program's limits (``Limits.runner_limits`` on the host); an rlimit of None is not set.
    ``stderr_bytes``: how much of its stderr is kept (``STDERR_KEEP`` unless said)."""

    stderr_bytes: int


class _Job(TypedDict):
    files: dict[str, str]
    compile: list[str] | None
    run: list[str]
    limits: RunLimits
    compile_limits: RunLimits
    workdir_base: str
    python_inproc: bool  # a Python program may be forked from this interpreter (``run`` is python3 FILE)
    sweep: bool
    wipe: list[str]


class Job(_Job, total=False):
    """host → runner: a session. ``binary``: the files an identical compile made (there is no compile then);
    ``artifacts``: send back what the compile makes, up to this many bytes; ``b64files``: the caller's own
    files ({relative path: base64}), written before the compile (a tool call's data)."""

    binary: Files
    artifacts: int
    b64files: dict[str, str]


class _Test(TypedDict):
    stdin: str
    wall_s: float


class Test(_Test, total=False):
    """host → runner: one test (``stream``: its stdin stays open, its stdout is relayed; ``fetch``: files of
    the work dir to send back after it, ``fetch_bytes`` at most together)."""

    stream: bool
    fetch: list[str]
    fetch_bytes: int


# host → runner while a streaming test runs ("in" is a keyword: the functional form)
Relay = TypedDict("Relay", {"in": str, "eof": bool, "kill": bool}, total=False)


class Ran(TypedDict):
    """How a program ended: what it wrote (stdout relayed as it came, for a streaming test: empty here) and
    how many bytes of each it wrote in all (what is kept may be less), its exit, the limits it hit, its time
    and peak memory."""

    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    timed_out: bool
    output_limit: bool
    exit: int | None
    signal: int | None
    time_s: float
    cpu_s: float
    max_rss_kb: int
    oom: bool


class _Answer(Ran):
    result: str | None


class Answer(_Answer, total=False):
    """runner → host: a test's answer; ``result``: what the program left in $SANDBOX_RESULT; ``fetched``: the
    files asked for that are there, regular and within the bytes allowed ({path: base64})."""

    fetched: dict[str, str]


class Build(TypedDict, total=False):
    """runner → host, as ``{"compile": Build}``: ``ok`` alone when there was nothing to compile; else the
    compile's :class:`Answer` fields, and ``artifacts`` when asked for (None: too many or too large)."""

    ok: bool
    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    timed_out: bool
    output_limit: bool
    exit: int | None
    signal: int | None
    time_s: float
    cpu_s: float
    max_rss_kb: int
    oom: bool
    artifacts: Files | None


class Spec(TypedDict):
    """runner → a spare: the program to become."""

    argv: list[str]
    limits: RunLimits
    wall: float
    cwd: str
    env: dict[str, str]


State = tuple[list[tuple[int, int]], int, int, set[int]]  # see _state
Reaped = tuple[int, int, resource.struct_rusage]  # os.wait4's answer


# --- the runner ------------------------------------------------------------------------------------------

STDERR_KEEP = 4096
ERROR_KEEP = 2000  # characters of a runner error (they can quote what a program wrote)
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
IPC_RMID = 0
SYSV_IPC: tuple[tuple[str, str, Callable[[Any, int], object]], ...] = (
           ("/proc/sysvipc/shm", "shmctl", lambda f, i: f(i, IPC_RMID, None)),
            ("/proc/sysvipc/msg", "msgctl", lambda f, i: f(i, IPC_RMID, None)),
            ("/proc/sysvipc/sem", "semctl", lambda f, i: f(i, 0, IPC_RMID)))
ARTIFACT_FILES = 1024  # files a compile may leave for the cache (more: nothing is cached)
ZYGOTE_FD = 3
ZYGOTE_ANSWER_S = 5.0
SPARES = 4  # made per request, through one intermediate (it costs a fork and an exit, whatever the batch)
# The answer to a test when a program has re-limited or re-niced the runner (and so all it would start).
TAMPERED: Answer = {"stdout": "", "stderr": "the submission changed the limits or the scheduling of the sandbox's own "
            "processes", "exit": None, "signal": signal.SIGKILL, "time_s": 0.0, "cpu_s": 0.0, "max_rss_kb": 0,
            "timed_out": False, "output_limit": False, "oom": False, "result": None, "stdout_bytes": 0,
            "stderr_bytes": 0}
# Signals a program can send that could reach the runner: as PID 1 it gets only those it has a handler
# for (Python installs one for SIGINT); ignored, none does. Not SIGCHLD: ignoring it breaks wait4.
SHIELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
          signal.SIGALRM, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGPIPE, signal.SIGXFSZ)
RLIMITS = [getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")]
BASELINE: State | None = None  # the runner's _state() at start: what its helpers must still have
# Imported once by the zygote, so that each test does not pay for them again (LeetCode-style solutions
# import most of these through the harness's prelude).
PRELOAD = ("typing", "collections", "math", "heapq", "bisect", "itertools", "functools", "string", "re",
           "random", "json", "traceback", "types")
_libc = ctypes.CDLL(None, use_errno=True)


def _preload() -> None:  # cheap the second time (the zygote forked from a runner that did it)
    import _sitebuiltins
    import builtins
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")  # as ``site`` would (we run with -S)
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass


def _prctl(option: int, value: int) -> None:
    try:
        _libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _set_signals(handler: signal.Handlers) -> None:
    """The disposition of every signal in SHIELD to ``handler``."""
    for sig in SHIELD:
        signal.signal(sig, handler)


def _fresh_signals() -> None:
    """Dispositions as a fresh interpreter has them (ignored ones would survive exec, and Python programs
    run in this one)."""
    _set_signals(signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_IGN)


def _encode(text: str) -> bytes:
    """UTF-8 of text that came as JSON: a lone surrogate is the byte surrogateescape stands for, or itself."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _send(obj: Mapping[str, object]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _oom_kills() -> int | None:
    """The cgroup's OOM-kill counter (v2 memory.events or v1 memory.oom_control); None when unreadable."""
    for path, key in (("/sys/fs/cgroup/memory.events", "oom_kill"),
                      ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return None


def _limit_child(limits: RunLimits, wall: float) -> None:
    os.setsid()
    cpu = max(1, int(wall + 1))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = limits["fsize_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    address_space, nproc = limits.get("address_space_mb"), limits.get("nproc")
    if address_space:
        size = address_space * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _run_python_here(argv: list[str], cwd: str) -> NoReturn:
    """In the forked child: run a Python program in this already started interpreter (no exec, no start-up
    cost), as ``python3 FILE`` would. Never returns."""
    import builtins
    import traceback
    import types
    script = next(a for a in argv[1:] if not a.startswith("-"))
    sys.argv, sys.path[0] = [script], cwd
    sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    code: int = 0
    try:
        with open(script, "rb") as f:
            source = f.read()
        exec(compile(source, script, "exec"), main.__dict__)
        _join_threads()
    except SystemExit as exc:
        _join_threads()
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the program's own frames only
        traceback.print_exception(type(exc), exc, tb)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 120
    os._exit(code)


def _join_threads() -> None:
    """What interpreter exit does: wait for non-daemon threads (``Thread(target=main).start()`` is common)."""
    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()


def _become(spec: Spec, fds: Sequence[int], here: bool) -> NoReturn:
    """In a forked child: become the program ``spec`` describes, on ``fds`` as stdin/stdout/stderr; in this
    interpreter with ``here``. Never returns."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 4096)
        os.chdir(spec["cwd"])
        _limit_child(spec["limits"], spec["wall"])
        _fresh_signals()
        if here:
            os.environ.clear()
            os.environ.update(spec["env"])
            _run_python_here(spec["argv"], spec["cwd"])
        os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
    except BaseException as exc:
        os.write(2, f"exec failed: {exc!r}"[:ERROR_KEEP].encode())
    os._exit(127)


# --- the zygote: starts Python programs, never sees what they are given ----------------------------------

def _state(pid: int = 0) -> State | None:
    """What any process of the programs' uid can change in another one without ptrace (prlimit,
    setpriority, sched_setscheduler, sched_setaffinity), and the children of that process would inherit.
    None once ``pid`` is gone."""
    try:
        return ([resource.prlimit(pid, r) for r in RLIMITS], os.getpriority(os.PRIO_PROCESS, pid),
                os.sched_getscheduler(pid), os.sched_getaffinity(pid))
    except OSError:
        return None


def _signalled(pid: int) -> bool:
    """Whether a signal is pending for ``pid`` (other than SIGCONT and SIGCHLD, ours): a program that killed
    every other process a moment before it was itself killed may have left a SIGKILL still on its way to a
    spare, which would then die under the next test's program."""
    harmless = (1 << (signal.SIGCONT - 1)) | (1 << (signal.SIGCHLD - 1))
    try:
        with open(f"/proc/{pid}/status") as f:
            masks = [int(line.split()[1], 16) for line in f if line.startswith(("SigPnd:", "ShdPnd:"))]
    except (OSError, ValueError, IndexError):
        return True
    return any(mask & ~harmless for mask in masks)


def _zygote(sock: socket.socket) -> NoReturn:
    """The zygote's loop: on each request, fork a batch of spares for the runner and pass it their sockets.
    It exits when the runner goes."""
    _prctl(PR_SET_DUMPABLE, 0)  # again: exec made it dumpable
    _fresh_signals()  # ignoring signals would not protect it (SIGKILL): one that a program killed is replaced
    os.chdir("/")
    _preload()
    while True:
        try:
            if not sock.recv(16):
                os._exit(0)
            pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(SPARES)]
        except OSError:
            os._exit(0)
        note: dict[str, object]
        try:
            note, fds = {"spares": _fork_spares([theirs for _, theirs in pairs])}, [ours.fileno() for ours, _ in pairs]
        except OSError as exc:
            note, fds = {"error": repr(exc)[:ERROR_KEEP]}, []
        try:
            socket.send_fds(sock, [json.dumps(note).encode()], fds)
        except OSError:
            os._exit(0)
        finally:
            for pair in pairs:
                for end in pair:
                    end.close()


def _fork_spares(socks: list[socket.socket]) -> list[int]:
    """Fork a spare on each of ``socks`` through one intermediate that exits at once, so that the spares
    are the runner's children (it is PID 1, or a subreaper), childless, as a fresh interpreter would be;
    their pids, once that is so (the intermediate has been reaped)."""
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            pids = []
            for sock in socks:
                pid = os.fork()
                if pid == 0:
                    _spare(sock)
                pids.append(pid)
        finally:
            os.write(w, json.dumps(pids).encode())
            os._exit(0)
    os.close(w)
    try:
        answer = os.read(r, 4096)
    finally:
        os.close(r)
        os.waitpid(middle, 0)
    spares: list[int] = json.loads(answer) if answer else []
    if not spares:
        raise OSError("could not fork a spare")
    return spares


def _spare(sock: socket.socket) -> NoReturn:
    """A spare: wait for the program to become (argv, directory, environment, limits, and its stdin, stdout
    and stderr); exit when the runner goes."""
    os.closerange(3, sock.fileno())  # the zygote's sockets among them
    os.closerange(sock.fileno() + 1, 4096)
    try:
        data, fds, _, _ = socket.recv_fds(sock, 65536, 3)
    except OSError:
        data, fds = b"", []
    if data and len(fds) == 3:
        _become(cast("Spec", json.loads(data)), fds, here=True)
    os._exit(0)


def _pidfd(pid: int) -> int | None:
    """A pidfd for our child ``pid``, or None where the kernel has none (gVisor's before 2023 answers ENOSYS):
    callers then poll with wait4/waitid, which name only our own unreaped children."""
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError as exc:
        if exc.errno != errno.ENOSYS:
            raise
        return None


def _unreaped(pid: int) -> bool:
    """Whether ``pid`` is still our child, running or a zombie (so its number is not anyone else's)."""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


class _Helper:
    """A helper process of the runner's (the zygote, a spare): its pid, a pidfd to watch and signal it
    (never a recycled pid; without pidfds, only while it is our unreaped child), and the socket to it."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid, self.pidfd, self.sock = pid, _pidfd(pid), sock

    def alive(self) -> bool:
        if self.pidfd is None:
            try:
                return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
            except ChildProcessError:
                return False
        return not select.select([self.pidfd], [], [], 0)[0]

    def sound(self) -> bool:
        """Alive, no signal on its way to it, and neither its limits nor its scheduling changed (by a program,
        since we start it so)."""
        return self.alive() and not _signalled(self.pid) and _state(self.pid) == BASELINE

    def signal(self, sig: int) -> None:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, sig)
            elif _unreaped(self.pid):  # no other thread reaps: the pid stays ours until we signal it
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def close(self, kill: bool = True) -> None:
        if kill:
            self.signal(signal.SIGKILL)
            try:
                if self.pidfd is not None:
                    os.waitid(os.P_PIDFD, self.pidfd, os.WEXITED)
                else:
                    os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass  # reaped already
        if self.pidfd is not None:
            os.close(self.pidfd)
        self.sock.close()


class Zygote:
    """The runner's side: start the zygote, order spares from it in batches (made while a program runs, so
    a test costs one hand-over), and replace it, or a spare, that a program killed, stopped or re-limited.
    One answer from the zygote is awaited at a time."""

    def __init__(self) -> None:
        self.proc: _Helper | None = None
        self.spares: list[_Helper] = []
        self.waiting = self.started = False

    def start(self, fresh: bool) -> _Helper:
        """Fork it (only before any job is read: it would inherit our heap) or, ``fresh``, exec a new one."""
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)  # not the job channel
                os.dup2(null, 1)
                ours.close()
                if not fresh:
                    _zygote(theirs)
                os.dup2(theirs.fileno(), ZYGOTE_FD)
                os.set_inheritable(ZYGOTE_FD, True)
                os.execv(sys.executable, [sys.executable, "-S", os.path.abspath(__file__), "--zygote"])
            finally:
                os._exit(1)
        theirs.close()
        helper = _Helper(pid, ours)
        self.proc, self.started = helper, True
        return helper

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.close()
        self.proc, self.waiting = None, False

    def _receive(self) -> None:
        """The spares ordered last; a zygote that does not deliver them is stopped."""
        self.waiting = False
        fds: list[int] = []
        spares: list[_Helper] = []
        try:
            if self.proc is None:
                raise OSError("no zygote")
            if not select.select([self.proc.sock], [], [], ZYGOTE_ANSWER_S)[0]:
                raise TimeoutError("the zygote did not answer")
            data, fds, _, _ = socket.recv_fds(self.proc.sock, 4096, SPARES)
            note = json.loads(data or b'{"error": "the zygote is gone"}')
            if len(note.get("spares", ())) != len(fds):
                raise OSError(f"zygote: {note.get('error')}")
            while fds:
                spares.append(_Helper(note["spares"][len(spares)], socket.socket(fileno=fds.pop(0))))
        except OSError:
            for fd in fds:
                os.close(fd)
            for spare in spares:
                spare.close()
            self.stop()
            raise
        self.spares += spares

    def order(self) -> None:
        """Ask for spares (one batch at a time); a zygote that is not sound is replaced first."""
        if self.waiting:
            return
        proc = self.proc if self.proc is not None and self.proc.sound() else self.start(fresh=True)
        proc.sock.send(b"spares")
        self.waiting = True

    def settle(self) -> None:
        """Take delivery of the spares on order (before the sandbox is cleared, which would kill them half made)."""
        if self.waiting:
            try:
                self._receive()
            except OSError:
                pass

    def _next(self) -> _Helper:
        """A sound spare, ordered now if none is left."""
        self.settle()
        while self.spares and not self.spares[0].sound():
            self.spares.pop(0).close()
        if not self.spares:
            self.order()
            self._receive()
        return self.spares[0]

    def ready(self) -> None:
        """After a sweep: a sound zygote and spares, so that the next submission's first test does not wait
        for an interpreter to start (when a program killed or re-limited them)."""
        if not self.started:
            return  # never needed here
        try:
            if self.proc is None or not self.proc.sound():
                self.start(fresh=True)
            self._next()
        except OSError:
            self.stop()

    def resume(self) -> None:
        for helper in [self.proc, *self.spares]:
            if helper is not None:
                helper.signal(signal.SIGCONT)

    def helpers(self) -> list[_Helper]:
        """The live helpers, which a clear spares (dead ones are let go: they are reaped with the rest)."""
        if self.proc is not None and not self.proc.alive():
            self.stop()
        for spare in [s for s in self.spares if not s.alive()]:
            self.spares.remove(spare)
            spare.close()
        return [h for h in [self.proc, *self.spares] if h is not None]

    def spawn(self, spec: Spec, fds: Sequence[int]) -> int:
        """The pid of a program started as ``spec`` says, our child; a zygote or spare that fails is
        replaced once. Raises OSError when that does not help (our failure: the sandbox was cleared)."""
        for attempt in (1, 2):
            try:
                spare = self._next()
                socket.send_fds(spare.sock, [json.dumps(spec).encode()], fds)
                break
            except OSError:
                if self.spares:
                    self.spares.pop(0).close()
                if attempt == 2:
                    raise
        self.spares.pop(0).close(kill=False)  # it is the program now
        if not self.spares:
            try:
                self.order()  # made while the program runs
            except OSError:
                self.stop()
        return spare.pid


# --- running one program -------------------------------------------------------------------------------

def _spawn(spec: Spec, here: bool, zygote: Zygote | None) -> tuple[int, int, int, int]:
    """Start the limited child: a Python program (``here``) from the zygote when given, else in a fork of
    this interpreter; anything else by fork and exec. Returns (pid, stdin write end, stdout read end,
    stderr read end)."""
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    theirs = (stdin_r, out_w, err_w)
    try:
        if here and zygote is not None:
            pid = zygote.spawn(spec, theirs)
        else:
            pid = os.fork()
            if pid == 0:
                _become(spec, theirs, here)
    except BaseException:
        for fd in (stdin_w, out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in theirs:
            os.close(fd)
    return pid, stdin_w, out_r, err_r


def _feed(writer: int, data: bytes) -> tuple[int | None, bytes]:
    """Write the next piece of stdin; close it when done (or when the program stopped reading)."""
    try:
        data = data[os.write(writer, data[:65536]):]
    except OSError:
        data = b""
    if not data:
        os.close(writer)
        return None, data
    return writer, data


def _read_ready(ready: list[int], readers: dict[int, bytearray], out_r: int, cap: int, head: bool,
                keep: int, sizes: dict[int, int]) -> bool:
    """Read what ``ready`` pipes hold into their buffers (closing them at EOF), counting it in ``sizes``;
    True once stdout passes ``cap``. Of stderr only the ``head`` or the tail, ``keep`` bytes, is kept."""
    for fd in ready:
        chunk = os.read(fd, 65536)
        if not chunk:
            os.close(fd)
            del readers[fd]
            continue
        sizes[fd] += len(chunk)
        buf = readers[fd]
        buf += chunk
        if fd != out_r and len(buf) > 2 * keep:  # a flood of stderr must not grow us
            if head:
                del buf[keep + 1:]
            else:
                del buf[:-keep]
    return out_r in readers and len(readers[out_r]) > cap


def _pump(pid: int, data: bytes, stdin_w: int, out_r: int, err_r: int, deadline: float, cap: int,
          head: bool, keep: int) -> tuple[bytearray, bytearray, bool, bool, Reaped | None, tuple[int, int]]:
    """Feed stdin and collect output until the program exits (a daemon holding its pipes does not count),
    the deadline passes or stdout passes ``cap``. Returns (out, err, timed_out, over, wait4 result or None,
    (bytes written to stdout, to stderr))."""
    out, err = bytearray(), bytearray()
    readers = {out_r: out, err_r: err}
    sizes = {out_r: 0, err_r: 0}
    writer: int | None = stdin_w
    if not data:
        os.close(stdin_w)
        writer = None
    pidfd = _pidfd(pid)
    timed_out = over = False
    exited: Reaped | None = None
    drain_until = 0.0
    while not over:
        now = time.monotonic()
        if exited is None:
            reaped = os.wait4(pid, os.WNOHANG)
            if reaped[0] == pid:
                exited, drain_until = reaped, now + 0.05  # read what is already in the pipes, then stop
        if exited is not None and (not readers or now >= drain_until):
            break
        if exited is None and now >= deadline:
            timed_out = True
            break
        waiting = list(readers) + ([pidfd] if pidfd is not None and exited is None else [])
        timeout = min(deadline - now, 0.01 if pidfd is None or exited is not None else 1.0)
        ready_r, ready_w, _ = select.select(waiting, [writer] if writer is not None else [], [], max(timeout, 0))
        if ready_w and writer is not None:
            writer, data = _feed(writer, data)
        over = _read_ready([fd for fd in ready_r if fd != pidfd], readers, out_r, cap, head, keep, sizes)
    for fd in list(readers) + [fd for fd in (writer, pidfd) if fd is not None]:
        os.close(fd)
    return out, err, timed_out, over, exited, (sizes[out_r], sizes[err_r])


def run_program(argv: list[str], stdin: str, limits: RunLimits, wall: float, cwd: str, env: dict[str, str],
                here: bool = False, zygote: Zygote | None = None, head: bool = False) -> Ran:
    """Run ``argv`` once under ``limits``; everything the host needs to judge it, but no judgement. Of its
    stderr the ``head`` is kept (a compiler's first error), else the tail (a traceback's last lines)."""
    oom_before = _oom_kills()
    started = time.monotonic()
    spec: Spec = {"argv": argv, "limits": limits, "wall": wall, "cwd": cwd, "env": env}
    pid, stdin_w, out_r, err_r = _spawn(spec, here, zygote)
    cap, keep = limits["output_bytes"], limits.get("stderr_bytes") or STDERR_KEEP
    out, err, timed_out, over, exited, sizes = _pump(pid, _encode(stdin), stdin_w, out_r, err_r, started + wall,
                                                     cap, head, keep)
    return _ended(pid, exited, started, oom_before, bytes(out[:cap]).decode("utf-8", "replace"),
                  bytes(err[:keep] if head else err[-keep:]).decode("utf-8", "replace"), timed_out, over, sizes)


def _ended(pid: int, exited: Reaped | None, started: float, oom_before: int | None, stdout: str, stderr: str,
           timed_out: bool, output_limit: bool, sizes: tuple[int, int]) -> Ran:
    """How a program that stopped (or ran out of time: its group is killed now) ended, with what it wrote."""
    _kill_group(pid)  # the program's own children go with it
    if exited is None:
        exited = os.wait4(pid, 0)
    _, status, usage = exited
    elapsed = time.monotonic() - started
    oom_after = _oom_kills()
    return {
        "stdout": stdout, "stderr": stderr, "stdout_bytes": sizes[0], "stderr_bytes": sizes[1],
        "timed_out": timed_out, "output_limit": output_limit,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "time_s": round(elapsed, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "max_rss_kb": usage.ru_maxrss,
        "oom": oom_before is not None and oom_after is not None and oom_after > oom_before,
    }


# --- streaming: the host talks to a running program ------------------------------------------------------

RELAY = ("in", "eof", "kill")  # the messages of a streaming test; any other ends it (the host moved on)


class Channel:
    """The host's messages: JSON lines on our stdin, read without a buffer of Python's, so that a streaming
    test can wait on the host and on its program at once."""

    def __init__(self, fd: int = 0) -> None:
        self.fd, self.eof = fd, False
        self._buf = bytearray()
        self._lines: list[Message] = []

    def fill(self) -> None:
        """Read what has come (blocks when nothing has); parse the lines it completes."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.eof = True
            return
        begin, scan = 0, len(self._buf)
        self._buf += chunk
        end = self._buf.find(b"\n", scan)
        while end != -1:
            line = bytes(self._buf[begin:end])
            if line.strip():
                self._lines.append(json.loads(line))
            begin = end + 1
            end = self._buf.find(b"\n", begin)
        del self._buf[:begin]

    def peek(self) -> Message | None:
        return self._lines[0] if self._lines else None

    def pop(self) -> Message:
        return self._lines.pop(0)

    def __iter__(self) -> Iterator[Message]:
        while True:
            while not self._lines and not self.eof:
                self.fill()
            if not self._lines:
                return
            yield self._lines.pop(0)


def _relay(channel: Channel, pending: bytes, stdin_open: bool) -> tuple[bytes, bool, bool]:
    """Apply the host's relay messages that have come: (stdin still to write, keep stdin open, kill now)."""
    while (msg := channel.peek()) is not None:
        if not any(key in msg for key in RELAY):
            return pending, stdin_open, True  # a stop or a new test: this program's time is over
        channel.pop()
        if msg.get("kill"):
            return pending, stdin_open, True
        if "in" in msg and stdin_open:
            pending += _encode(msg["in"])
        if msg.get("eof"):
            stdin_open = False
    return pending, stdin_open, channel.eof


def _stream_out(fd: int, err: bytearray | None) -> int:
    """Relay what ``fd`` holds (stdout as it comes; stderr's tail kept in ``err``): how many bytes, 0 at its
    end."""
    chunk = os.read(fd, 65536)
    if not chunk:
        os.close(fd)
        return 0
    if err is None:
        _send({"out": chunk.decode("utf-8", "surrogateescape")})
    else:
        err += chunk
        del err[:-STDERR_KEEP]
    return len(chunk)


def _ended_now(pid: int, pidfd: int | None, ready: list[int]) -> Reaped | None:
    """The program's wait4 answer if it has ended: its pidfd is ready or, without one, wait4 says so."""
    if pidfd is not None:
        return os.wait4(pid, 0) if pidfd in ready else None
    reaped = os.wait4(pid, os.WNOHANG)
    return reaped if reaped[0] == pid else None


def run_streaming(argv: list[str], stdin: str, limits: RunLimits, wall: float, cwd: str, env: dict[str, str],
                  channel: Channel, here: bool = False, zygote: Zygote | None = None) -> Ran:
    """Run ``argv`` under ``limits`` with its stdin and stdout relayed to and from the host (see the
    protocol above) until it exits, its wall clock runs out, or the host kills it."""
    oom_before = _oom_kills()
    started = time.monotonic()
    pid, stdin_w, out_r, err_r = _spawn({"argv": argv, "limits": limits, "wall": wall, "cwd": cwd, "env": env},
                                        here, zygote)
    pidfd = _pidfd(pid)  # None (gVisor): poll wait4 every 10 ms instead
    err = bytearray()
    readers: dict[int, bytearray | None] = {out_r: None, err_r: err}
    sizes = {out_r: 0, err_r: 0}
    pending, stdin_open, stop = _encode(stdin), True, False
    timed_out, drain_until = False, 0.0
    exited: Reaped | None = None
    writer: int | None = stdin_w
    while not stop:
        now = time.monotonic()
        if exited is not None and (not readers or now >= drain_until):
            break
        if exited is None and now >= started + wall:
            timed_out = True
            break
        wanted = (list(readers) + ([pidfd] if exited is None and pidfd is not None else [])
                  + ([channel.fd] if not channel.eof else []))
        writing = [writer] if writer is not None and pending else []
        # no wait for messages read with the one that started this test: they are not on the fd any more
        timeout = 0.0 if channel.peek() is not None else max(0.0, min(started + wall - now,
                                                                       1.0 if exited is None and pidfd is not None
                                                                       else 0.01))
        ready, can_write, _ = select.select(wanted, writing, [], timeout)
        if exited is None and (exited := _ended_now(pid, pidfd, ready)) is not None:
            drain_until = time.monotonic() + 0.05
        for fd in [fd for fd in ready if fd in readers]:
            got = _stream_out(fd, readers[fd])
            sizes[fd] += got
            if not got:
                del readers[fd]
        if channel.fd in ready:
            channel.fill()
        pending, stdin_open, stop = _relay(channel, pending, stdin_open)
        if can_write and writer is not None:
            try:
                pending = pending[os.write(writer, pending[:65536]):]
            except OSError:  # it closed its stdin, or ended: what is left goes nowhere
                pending, stdin_open = b"", False
        if writer is not None and not stdin_open and not pending:
            os.close(writer)
            writer = None
    for fd in list(readers) + [fd for fd in (writer, pidfd) if fd is not None]:
        os.close(fd)
    return _ended(pid, exited, started, oom_before, "", bytes(err[-STDERR_KEEP:]).decode("utf-8", "replace"),
                  timed_out, False, (sizes[out_r], sizes[err_r]))


def _read_regular(path: str, cap: int) -> tuple[bytes, int] | None:
    """(up to ``cap`` + 1 bytes of ``path``, its permission bits), or None unless it is a regular file (a
    program chooses what is there: a symlink to /dev/urandom, a FIFO that never opens...)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        data = bytearray()
        while len(data) <= cap:
            chunk = os.read(fd, cap + 1 - len(data))
            if not chunk:
                break
            data += chunk
        return bytes(data), stat.S_IMODE(st.st_mode)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_result(path: str, cap: int) -> tuple[str | None, bool]:
    """(text, over cap) of what the program left in its result file, or (None, False)."""
    read = _read_regular(path, cap)
    if read is None:
        return None, False
    return read[0][:cap].decode("utf-8", "replace"), len(read[0]) > cap


def _write_files(work: str, job: Job) -> None:
    """The sources, the caller's own files, and the files an earlier compile of them made (from the host's
    cache), with their modes."""
    for name, text in job["files"].items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(_encode(text))
    given = [(name, (data, 0o644)) for name, data in (job.get("b64files") or {}).items()]
    for name, (data, mode) in given + list((job.get("binary") or {}).items()):
        path = _inside(work, name)
        if path is None:
            raise ValueError(f"not a path inside the work dir: {name[:200]!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, mode & 0o777)
            f.write(base64.b64decode(data))


def _inside(work: str, name: str) -> str | None:
    """``name``'s path under ``work``; None unless it is relative, without ``..``, and stays there once
    symlinks are followed (a program may have made some)."""
    if not name or "\0" in name or os.path.isabs(name) or ".." in name.split("/"):
        return None
    path = os.path.join(work, name)
    return path if os.path.realpath(path).startswith(os.path.realpath(work) + os.sep) else None


def _fetch(work: str, names: list[str], max_bytes: int) -> dict[str, str]:
    """{name: base64} of the files asked for that are regular files inside ``work``, while they fit
    ``max_bytes`` together; one that does not fit, or is not there, is left out."""
    fetched: dict[str, str] = {}
    for name in names:
        path = _inside(work, name)
        read = _read_regular(path, max_bytes) if path is not None else None
        if read is not None and len(read[0]) <= max_bytes:
            max_bytes -= len(read[0])
            fetched[name] = base64.b64encode(read[0]).decode()
    return fetched


def _artifacts(work: str, sources: dict[str, str], max_bytes: int) -> Files | None:
    """What the compile made: every regular file under ``work`` but the sources, {name: [base64, mode]};
    None when they pass ``max_bytes`` (or ``ARTIFACT_FILES``) together, or one cannot be read or listed."""
    found: Files = {}
    unlisted: list[OSError] = []
    total = 0
    for root, _, names in os.walk(work, onerror=unlisted.append):
        for name in names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, work)
            if relative in sources or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            read = _read_regular(path, max_bytes - total)
            if read is None or len(found) == ARTIFACT_FILES:
                return None
            total += len(read[0])
            if total > max_bytes:
                return None
            found[relative] = (base64.b64encode(read[0]).decode(), read[1])
    return None if unlisted else found


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


# --- clearing the sandbox between tests and sessions -----------------------------------------------------

def _others(keep: Sequence[int] = ()) -> list[int]:
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me, *keep)]


def _reap() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _ipc_ids(path: str) -> list[int] | None:
    """The ids ``path`` lists, or None when it cannot be read (gVisor has no /proc/sysvipc)."""
    try:
        with open(path) as f:
            return [int(line.split()[1]) for line in f.readlines()[1:] if line.strip()]
    except OSError:
        return None


def _remove_ipc() -> bool:
    """Remove every SysV shared-memory segment, message queue and semaphore set (the runner has the
    programs' uid: it owns what they made); True when none is left. False when they cannot be listed: what
    cannot be seen cannot be removed, so the container is not reused (under gVisor, a fresh one each time)."""
    for path, name, remove in SYSV_IPC:
        for ident in _ipc_ids(path) or []:
            remove(getattr(_libc, name), ident)
    return all(_ipc_ids(path) == [] for path, _, _ in SYSV_IPC)


def _clear(zygote: Zygote) -> bool:
    """Kill every process but this runner and its helpers, remove the IPC objects; True when all are gone
    and nothing of ours was re-limited (the container may then serve another submission)."""
    return _settled(zygote) and _remove_ipc()


def _settled(zygote: Zygote) -> bool:
    """Kill every process but this runner and its helpers; True when all are gone and nothing of ours was
    re-limited (what a compile made can then be read: nothing is left to change it)."""
    zygote.resume()  # a program may have stopped it half way through making a spare
    zygote.settle()
    helpers = zygote.helpers()
    keep = [h.pid for h in helpers]
    deadline = time.monotonic() + 2.0
    while _others(keep):
        if time.monotonic() > deadline:
            return False
        try:
            os.kill(-1, signal.SIGSTOP)  # all at once: none of them can fork any more
        except OSError:
            pass
        for pid in _others(keep):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap()
        time.sleep(0.001)
    zygote.resume()  # stopped by us, or by a program
    return _state() == BASELINE


def _unlock(top: str) -> None:
    """Give the owner (us) rwx again on every directory under ``top`` (a program may chmod them to 0)."""
    for root, dirs, _ in os.walk(top):  # top-down: each directory is unlocked before it is listed
        for d in dirs:
            path = os.path.join(root, d)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass


def _empty(directory: str) -> bool:
    """Remove everything in ``directory``; True when it is empty afterwards (or does not exist)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return True
    for name in names:
        path = os.path.join(directory, name)
        for attempt in (1, 2):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                break
            except OSError:
                if attempt == 1 and os.path.isdir(path) and not os.path.islink(path):
                    os.chmod(path, 0o700)
                    _unlock(path)
    return not os.listdir(directory)


def _sweep(wipe: list[str], zygote: Zygote) -> bool:
    """Kill every process but the runner and its helpers, remove IPC objects, empty the writable directories.
    True when the sandbox is clean."""
    cleared = _clear(zygote)
    zygote.ready()
    return all([cleared, *[_empty(d) for d in wipe]])


# --- sessions --------------------------------------------------------------------------------------------

def _session(job: Job, channel: Channel, messages: Iterator[Message], zygote: Zygote, first: bool) -> None:
    """One submission: write its files, compile, run one test per message until ``stop``. Python programs
    come from the zygote, or for the ``first`` submission from this interpreter (no other's data in it)."""
    limits = job["limits"]
    work = tempfile.mkdtemp(prefix="run-", dir=job.get("workdir_base") or tempfile.gettempdir())
    os.chmod(work, 0o700)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    alone = os.getpid() == 1  # everything else in the sandbox is the submission's
    try:
        _write_files(work, job)
        built = True
        here = bool(job.get("python_inproc")) and os.path.basename(job["run"][0]) in ("python3", "python")
        compile_argv, max_bytes = job.get("compile"), job.get("artifacts")
        if compile_argv:
            compile_limits = job["compile_limits"]
            ran = run_program(compile_argv, "", compile_limits, compile_limits["wall_s"], work, env, head=True)
            built = ran["exit"] == 0 and not ran["timed_out"]
            answer = cast("Build", {"ok": built, **ran})
            if built and max_bytes and (not alone or _settled(zygote)):  # nothing of the compile left
                answer["artifacts"] = _artifacts(work, {**job["files"], **(job.get("b64files") or {})}, max_bytes)
            _send({"compile": answer})
        else:
            _send({"compile": {"ok": True}})
        for number, msg in enumerate(messages):
            if msg.get("stop"):
                return
            test = cast("Test", msg)
            if any(key in msg for key in RELAY):
                continue  # for a streaming test that has ended
            if not built:
                _send({"error": "the program did not compile"})
                continue
            if _state() != BASELINE:  # a program re-limited or re-niced us: nothing we run would be right
                _send(TAMPERED)
                continue
            if alone:
                _clear(zygote)
            result_path = os.path.join(work, f".result-{number}.json")  # new each test: none can be stale
            args = (job["run"], test["stdin"], limits, test.get("wall_s") or limits["wall_s"], work,
                    {**env, "SANDBOX_RESULT": result_path})
            if test.get("stream"):
                ran = run_streaming(*args, channel, here, None if first else zygote)
            else:
                ran = run_program(*args, here, None if first else zygote)
            text, over = _read_result(result_path, limits["output_bytes"])
            tested = cast("Answer", {**ran, "result": text, "output_limit": ran["output_limit"] or over})
            if test.get("fetch"):
                tested["fetched"] = _fetch(work, test["fetch"], test.get("fetch_bytes") or 0)
            _send(tested)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    global BASELINE
    _prctl(PR_SET_DUMPABLE, 0)
    if "--zygote" in sys.argv:
        _zygote(socket.socket(fileno=ZYGOTE_FD))
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphaned programs come to us, also where we are not PID 1
    _set_signals(signal.SIG_IGN)
    BASELINE = _state()
    if "--preload" in sys.argv:  # a warm sandbox waiting for its first job: get the imports done now
        _preload()
    zygote = Zygote()
    if "--many" in sys.argv:  # sessions of several submissions will come: fork the zygote before any is read
        zygote.start(fresh=False)
        zygote.order()
    channel = Channel()
    messages = iter(channel)
    first = True
    for job in messages:
        if job.get("stop"):  # the host opened a session and needed nothing from it (a cached compile error)
            _send({"end": True, "clean": True})
            continue
        try:
            _session(cast("Job", job), channel, messages, zygote, first)
        except Exception as exc:  # report it; the host treats it as a sandbox error and recycles
            _send({"error": f"runner: {exc!r}"[:ERROR_KEEP]})
        first = False
        try:
            clean = _sweep(job.get("wipe") or [], zygote) if job.get("sweep") else True
        except Exception:  # e.g. no file descriptor left (a program's prlimit): not clean
            clean = False
        _send({"end": True, "clean": clean})


if __name__ == "__main__":
    main()
