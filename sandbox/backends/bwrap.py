"""bubblewrap: one fresh set of namespaces and one cgroup per submission, for machines without Docker.

Each session is ``bwrap`` with new user, pid, network, ipc, uts and cgroup namespaces; the host's /usr is
bound read-only (with the dynamic linker's cache), /proc and /dev are new, size-limited tmpfs mounts (/work,
/tmp and a tiny /dev/shm) are the only writable places, the environment is cleared, no nested user
namespaces, a seccomp filter (:mod:`sandbox.backends.seccomp`) refuses the system calls Docker's default
profile refuses, and bwrap dies with its parent. The runner is PID 1 of the namespace (immune to the
programs' signals, not dumpable); when it exits, the kernel kills everything left in the namespace, and the
IPC namespace, SysV segments and all, goes with it. When the service runs as root, bwrap itself runs under
an unprivileged host uid of its own (one per concurrent session).

Limits: each session gets a cgroup (:mod:`sandbox.backends.cgroups`, v1 or v2) with memory+swap, pids and a
CPU quota, entered before bwrap is exec'd, so that every process, tmpfs page and shm segment of the session
counts against one limit; it is removed when the session ends (what is left in it is killed first). Its
memory directory is bound read-only into the sandbox, where the runner reads the OOM-kill counter. Without
a writable hierarchy the backend refuses to start, unless ``rlimits_only`` accepts per-process limits
(address-space and process-count rlimits: several processes, or SysV shared memory, can then exceed the
memory limit together, and there is no CPU quota).
"""

from __future__ import annotations

import glob
import itertools
import logging
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.backends import cgroups, seccomp
from sandbox.backends.base import (
    RUNNER,
    RUNNER_SHARE_MB,
    CompileMemory,
    PipeSession,
    SandboxUnavailable,
    SessionBroken,
)
from sandbox.compile_cache import CompileCache
from sandbox.limits import Limits

_UID_BASE = 200_000
PYTHON = "/usr/bin/python3"
SPARES = 2  # sandboxes each thread keeps starting in advance
log = logging.getLogger(__name__)
RLIMITS_ONLY = "per-process limits only (REWARD_SANDBOX_BWRAP_RLIMITS_ONLY)"
# Directories under /etc that runtimes read at start: Debian's JDK keeps java.security and jvm.cfg there
# (javac and java stop at once without them). Only these are bound, read-only; the rest of /etc is not.
RUNTIME_CONFIG = tuple(sorted(glob.glob("/etc/java-*-openjdk")))


class BwrapSession:
    """A pipe session whose sandbox lives in ``group``. Closing it kills bwrap and with it the namespace
    (``--die-with-parent``, then PID 1's exit); the emptied group is handed to ``remove``. The group has the
    run's memory limit, raised to the compile's for the compile (as under Docker)."""

    def __init__(self, pipe: PipeSession, group: cgroups.Group | None,
                 remove: Callable[[cgroups.Group], None], limits: Limits) -> None:
        self.pipe, self.group, self._remove, self.limits = pipe, group, remove, limits
        self.proc = pipe.proc
        # A session here is never reused: a failed compile's raised limit can simply stay.
        self.memory = CompileMemory(
            (lambda mb: group.set_memory((mb + RUNNER_SHARE_MB) << 20)) if group is not None else None, limits)

    def alive(self) -> bool:
        return self.pipe.alive()

    def send(self, message: Mapping[str, Any]) -> None:
        self.memory.before(message)
        self.pipe.send(message)

    def recv(self, timeout: float) -> dict[str, Any]:
        message = self.pipe.recv(timeout)
        self.memory.after(message)
        return message

    def close(self, anomaly: bool = False) -> None:
        try:
            self.pipe.close(anomaly)
        finally:
            if self.group is not None:
                self.proc.kill()
                self._remove(self.group)


class _Remover:
    """Removes session cgroups in a thread of its own: their processes are killed already, and waiting the
    few milliseconds the kernel takes to tear the namespaces down need not hold up the next submission."""

    def __init__(self) -> None:
        self._queue: queue.Queue[cgroups.Group] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, group: cgroups.Group) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bwrap-cgroup-remover", daemon=True)
                self._thread.start()
        self._queue.put(group)

    def _run(self) -> None:
        while True:
            group = self._queue.get()
            try:
                if not group.destroy():  # a process stuck in the kernel; the next service start retries
                    log.warning("could not remove the sandbox cgroup %s", group.dirs[0])
            except OSError as exc:
                log.warning("could not remove the sandbox cgroup %s: %s", group.dirs[0], exc)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Until every group handed over so far is removed (or given up on)."""
        self._queue.join()


# The first process of a sandbox moves itself into its cgroup, then execs bwrap. A wrapper, not Popen's
# preexec_fn: on cgroup v1 a move waits for an RCU grace period (~15 ms), which here passes after Popen has
# returned (and Popen keeps using vfork). It runs as the sandbox's unprivileged uid and writes through
# descriptors the service opened (the kernel checks the opener's credentials: Linux 5.16, and the stable
# kernels it was backported to). bash, because dash cannot redirect to descriptors above 9; else Python.
BASH = shutil.which("bash", path="/usr/bin:/bin")
ENTER = {"bash": 'for fd in $1; do echo 0 >&"$fd" && exec {fd}>&- || exit 126; done; shift; exec "$@"',
         "python": "import os, sys\nfor fd in sys.argv[1].split():\n    os.write(int(fd), b'0')\n    os.close(int(fd))\n"
                   "os.execv(sys.argv[2], sys.argv[2:])"}


def _spec(limits: Limits) -> cgroups.Spec:
    return cgroups.Spec(memory_bytes=(limits.memory_mb + RUNNER_SHARE_MB) << 20,
                        pids=limits.pids + 1,  # + bwrap, outside the namespace
                        cpus=limits.cpus)


def _wrapped(argv: list[str], fds: list[int]) -> list[str]:
    """``argv`` run by a wrapper that first writes ``0`` (itself) to each of ``fds``."""
    listed = " ".join(map(str, fds))
    if BASH:
        return [BASH, "-c", ENTER["bash"], "bash", listed, *argv]
    return [PYTHON, "-S", "-E", "-c", ENTER["python"], listed, *argv]


class BwrapBackend:
    name = "bwrap"
    workdir_base = "/work"
    sweep: tuple[str, ...] | None = None  # the pid namespace and the tmpfs mounts die with the session
    toolchain = "host"  # the host's /usr, bound read-only

    def __init__(self, binary: str | None = None, *, rlimits_only: bool = False,
                 cgroup_root: str = "/sys/fs/cgroup") -> None:
        found = binary or shutil.which("bwrap")
        if not found:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
        self.binary: str = found
        if not os.access(PYTHON, os.X_OK):  # the runner and Python submissions use the host's system Python
            raise SandboxUnavailable(f"bubblewrap needs the system Python at {PYTHON} (Debian: python3)")
        try:
            self._seccomp = seccomp.program()
        except seccomp.Unsupported as exc:
            raise SandboxUnavailable(f"bubblewrap: {exc}") from exc
        self.cgroups: cgroups.Hierarchy | None = None
        try:
            self.cgroups = cgroups.find(cgroup_root)
        except cgroups.Unavailable as exc:
            if not rlimits_only:
                raise SandboxUnavailable(f"bubblewrap needs cgroups for its memory, pids and CPU limits: {exc}; "
                                         "to accept per-process limits instead, set "
                                         "REWARD_SANDBOX_BWRAP_RLIMITS_ONLY=1") from exc
        # rlimits the runner applies: the address space only without a cgroup (with one, a process may map
        # more than it uses, as under Docker); the per-uid process count always (cheap, and a second wall)
        self.address_space_rlimit = self.cgroups is None
        self.nproc_rlimit = True
        self._slots = itertools.count()
        self._lock = threading.Lock()
        # thread -> sandboxes started for it, oldest first, all for the same limits
        self._spares: dict[int, tuple[Limits, list[BwrapSession]]] = {}
        self._closed = False
        self._remove = _Remover()
        self.compile_cache: CompileCache | None = CompileCache()
        if self.cgroups is not None:
            self._check_entry(self.cgroups)

    def describe(self) -> str:
        """Which limits apply, for readiness reports: ``cgroup v1 limits`` or ``per-process limits only``."""
        return self.cgroups.describe() if self.cgroups is not None else RLIMITS_ONLY

    def _host_uid(self) -> int | None:
        if os.geteuid() != 0:
            return None
        with self._lock:
            slot = next(self._slots) % 4096
        return _UID_BASE + (os.getpid() % 4096) * 4096 + slot

    def argv(self, limits: Limits, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
        binds = ["--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            target = os.readlink(f"/{name}") if os.path.islink(f"/{name}") else None
            if target:
                binds += ["--symlink", target, f"/{name}"]
            elif os.path.isdir(f"/{name}"):
                binds += ["--ro-bind", f"/{name}", f"/{name}"]
        if os.path.exists("/etc/ld.so.cache"):
            binds += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for config in RUNTIME_CONFIG:  # configuration only (the JDK's java.security, jvm.cfg): nothing secret
            binds += ["--ro-bind", config, config]
        tmpfs = str(limits.tmpfs_mb * 1024 * 1024)
        return [self.binary, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--disable-userns",
                "--as-pid-1",  # the runner is PID 1: programs cannot signal it, and its exit ends them all
                *binds, "--ro-bind", str(RUNNER), "/sandbox/runner.py",
                "--proc", "/proc", "--dev", "/dev", "--size", str(1 << 20), "--tmpfs", "/dev/shm",
                "--size", tmpfs, "--tmpfs", "/work", "--size", tmpfs, "--tmpfs", "/tmp", *extra,
                "--remount-ro", "/",  # bwrap's root is a tmpfs: only the tmpfs mounts stay writable
                "--chdir", "/work", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--uid", "1000",
                "--gid", "1000", PYTHON, "-S", "/sandbox/runner.py", "--preload"]

    def _group(self, limits: Limits) -> cgroups.Group | None:
        return None if self.cgroups is None else self.cgroups.create(_spec(limits))

    def _entering(self, argv: list[str], group: cgroups.Group | None) -> tuple[list[str], dict[str, Any], list[int]]:
        """(argv, Popen arguments, descriptors to close once started) that run ``argv`` in ``group`` (entered
        before the exec) under a host uid of its own when the service is root."""
        uid = self._host_uid()
        popen: dict[str, Any] = {"cwd": "/", "env": {"PATH": "/usr/bin:/bin"}}  # none of the host's environment
        if uid is not None:
            popen.update(user=uid, group=uid, extra_groups=[])
        if group is None:
            return argv, popen, []
        procs = group.open_procs()
        return _wrapped(argv, procs), {**popen, "pass_fds": procs}, procs

    def _check_entry(self, hierarchy: cgroups.Hierarchy) -> None:
        """Start one process the way sandboxes start, and see that it lands in its cgroup."""
        group = None
        try:
            group = hierarchy.create(_spec(Limits()))
            argv, popen, procs = self._entering(["/bin/cat", "/proc/self/cgroup"], group)
            try:
                seen = subprocess.run(argv, capture_output=True, text=True, timeout=10, **popen)
            finally:
                for fd in procs:
                    os.close(fd)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxUnavailable(f"bubblewrap: could not start a process in a cgroup: {exc}") from exc
        finally:
            if group is not None:
                group.destroy(timeout=1.0)
        if os.path.basename(group.memory_dir) not in seen.stdout:
            raise SandboxUnavailable(f"bubblewrap: a process cannot move itself into its cgroup (exit "
                                     f"{seen.returncode}: {seen.stderr.strip()[:200]!r}); it needs Linux 5.16 or a "
                                     "stable kernel with that fix, or REWARD_SANDBOX_BWRAP_RLIMITS_ONLY=1")

    def _start(self, limits: Limits) -> BwrapSession:
        filter_r, filter_w = os.pipe()  # bwrap reads the filter from this descriptor once
        os.write(filter_w, self._seccomp)
        os.close(filter_w)
        group: cgroups.Group | None = None
        procs: list[int] = []
        try:
            group = self._group(limits)
            extra = ["--seccomp", str(filter_r)]
            if group is not None:  # the runner reads the OOM-kill counter here
                inside = "/sys/fs/cgroup" if group.version == 2 else "/sys/fs/cgroup/memory"
                extra += ["--ro-bind", group.memory_dir, inside]
            argv, popen, procs = self._entering(self.argv(limits, extra), group)
            popen["pass_fds"] = (filter_r, *popen.get("pass_fds", ()))
            pipe = PipeSession(argv, **popen)
        except (OSError, subprocess.SubprocessError) as exc:
            if group is not None:
                group.destroy(timeout=1.0)
            raise SessionBroken(f"could not start a bubblewrap sandbox: {exc}") from exc
        finally:
            for fd in [filter_r, *procs]:
                os.close(fd)
        return BwrapSession(pipe, group, self._remove, limits)

    def session(self, limits: Limits) -> BwrapSession:
        """A fresh sandbox. Each thread keeps ``SPARES`` starting in advance (nothing has run in them), so that
        a submission does not wait for namespaces and interpreter start-up, also when it opens two sessions
        at once (assert-style tests: the candidate's and the test process's). Per thread, because bwrap dies
        with the thread that started it (``--die-with-parent``)."""
        me = threading.get_ident()
        with self._lock:
            mine = self._spares.pop(me, None)
            ended = [t for t, (_, spares) in self._spares.items() if not any(s.alive() for s in spares)]
            gone = [s for t in ended for s in self._spares.pop(t)[1]]  # their threads ended
        spares = mine[1] if mine is not None and mine[0] == limits else []
        gone += [s for s in spares if not s.alive()] + (mine[1] if mine is not None and mine[0] != limits else [])
        spares = [s for s in spares if s.alive()]
        for session in gone:
            session.close(anomaly=True)
        chosen = spares.pop(0) if spares else self._start(limits)
        spares += [self._start(limits) for _ in range(SPARES - len(spares))]
        with self._lock:
            kept = not self._closed
            if kept:
                self._spares[me] = (limits, spares)
        if not kept:
            for spare in spares:
                spare.close(anomaly=True)
        return chosen

    def close(self) -> None:
        with self._lock:
            kept, self._spares, self._closed = list(self._spares.values()), {}, True
        for _, spares in kept:
            for spare in spares:
                spare.close(anomaly=True)
        self._remove.wait()


def status(rlimits_only: bool = False, cgroup_root: str = "/sys/fs/cgroup") -> tuple[bool, str]:
    """(could run here, one line saying which limits apply or why not); starts no sandbox."""
    try:
        return True, f"bwrap: {BwrapBackend(rlimits_only=rlimits_only, cgroup_root=cgroup_root).describe()}"
    except SandboxUnavailable as exc:
        return False, f"bwrap: {exc}"
