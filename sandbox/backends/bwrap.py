"""bubblewrap: one fresh set of namespaces per submission, for machines without Docker.

Each session is ``bwrap`` with new user, pid, network, ipc, uts and cgroup namespaces; the host's /usr is
bound read-only (with the dynamic linker's cache), /proc and /dev are new, size-limited tmpfs mounts (/work
and a tiny /dev/shm) are the only writable places, the environment is cleared, no nested user namespaces,
and bwrap dies with its parent. The runner is PID 1 of the namespace (immune to the programs' signals, not
dumpable); when it exits, the kernel kills everything left in the namespace. When the service runs as
root, bwrap itself is started under an unprivileged host uid of its own (one per concurrent session), so
the per-uid process limit stops fork bombs without touching anything else. Memory is an address-space
rlimit (there is no cgroup here). The pid namespace ends with the session, taking daemons with it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from typing import Any

from sandbox.backends.base import RUNNER, PipeSession, SandboxUnavailable
from sandbox.limits import Limits

_UID_BASE = 200_000
PYTHON = "/usr/bin/python3"


class BwrapBackend:
    name = "bwrap"
    address_space_rlimit = True
    nproc_rlimit = True
    workdir_base = "/work"
    sweep: tuple[str, ...] | None = None  # the pid namespace and the tmpfs mounts die with the session

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("bwrap")
        if not found:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
        self.binary: str = found
        if not os.access(PYTHON, os.X_OK):  # the runner and Python submissions use the host's system Python
            raise SandboxUnavailable(f"bubblewrap needs the system Python at {PYTHON} (Debian: python3)")
        self._slots = itertools.count()
        self._lock = threading.Lock()
        self._spares: dict[int, tuple[list[str], PipeSession]] = {}  # thread -> (argv, sandbox started for it)
        self._closed = False

    def _host_uid(self) -> int | None:
        if os.geteuid() != 0:
            return None
        with self._lock:
            slot = next(self._slots) % 4096
        return _UID_BASE + (os.getpid() % 4096) * 4096 + slot

    def argv(self, limits: Limits) -> list[str]:
        binds = ["--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            target = os.readlink(f"/{name}") if os.path.islink(f"/{name}") else None
            if target:
                binds += ["--symlink", target, f"/{name}"]
            elif os.path.isdir(f"/{name}"):
                binds += ["--ro-bind", f"/{name}", f"/{name}"]
        if os.path.exists("/etc/ld.so.cache"):
            binds += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        return [self.binary, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--disable-userns",
                "--as-pid-1",  # the runner is PID 1: programs cannot signal it, and its exit ends them all
                *binds, "--ro-bind", str(RUNNER), "/sandbox/runner.py",
                "--proc", "/proc", "--dev", "/dev", "--size", str(1 << 20), "--tmpfs", "/dev/shm",
                "--size", str(limits.tmpfs_mb * 1024 * 1024), "--tmpfs", "/work",
                "--remount-ro", "/",  # bwrap's root is a tmpfs: only /work stays writable
                "--chdir", "/work", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--uid", "1000",
                "--gid", "1000", PYTHON, "-S", "/sandbox/runner.py", "--preload"]

    def _start(self, argv: list[str]) -> PipeSession:
        uid = self._host_uid()
        extra: dict[str, Any] = {}
        if uid is not None:
            extra = {"user": uid, "group": uid, "extra_groups": [], "cwd": "/"}
        # bwrap itself (PID 1 in the sandbox, /proc/1/environ) gets no host environment either.
        return PipeSession(argv, env={"PATH": "/usr/bin:/bin"}, **extra)

    def session(self, limits: Limits) -> PipeSession:
        """A fresh sandbox. Each thread keeps one starting in advance (nothing has run in it), so that a
        submission does not wait for namespaces and interpreter start-up. Per thread, because bwrap dies
        with the thread that started it (``--die-with-parent``)."""
        argv, me = self.argv(limits), threading.get_ident()
        with self._lock:
            spare = self._spares.pop(me, None)
            for thread in [t for t, (_, s) in self._spares.items() if not s.alive()]:  # threads that ended
                del self._spares[thread]
        if spare is None or spare[0] != argv or not spare[1].alive():
            if spare is not None:
                spare[1].close(anomaly=True)
            spare = (argv, self._start(argv))
        fresh = self._start(argv)
        with self._lock:
            kept = not self._closed
            if kept:
                self._spares[me] = (argv, fresh)
        if not kept:
            fresh.close(anomaly=True)
        return spare[1]

    def close(self) -> None:
        with self._lock:
            spares, self._spares, self._closed = list(self._spares.values()), {}, True
        for _, spare in spares:
            spare.close(anomaly=True)
