"""bubblewrap: one fresh set of namespaces per submission, for machines without Docker.

Each session is ``bwrap`` with new user, pid, network, ipc, uts and cgroup namespaces; the host's /usr is
bound read-only (with the dynamic linker's cache), /proc and /dev are new, a size-limited tmpfs is the
only writable place, the environment is cleared, and bwrap dies with its parent. When the service runs as
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


class BwrapBackend:
    name = "bwrap"
    address_space_rlimit = True
    nproc_rlimit = True
    sweep = False  # the pid namespace dies with the session
    workdir_base = "/work"

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("bwrap")
        if not self.binary:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
        self._slots = itertools.count()
        self._lock = threading.Lock()

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
                *binds, "--ro-bind", str(RUNNER), "/sandbox/runner.py",
                "--proc", "/proc", "--dev", "/dev",
                "--size", str(limits.tmpfs_mb * 1024 * 1024), "--tmpfs", "/work",
                "--remount-ro", "/",  # bwrap's root is a tmpfs: only /work stays writable
                "--chdir", "/work", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--uid", "1000",
                "--gid", "1000", "/usr/bin/python3", "-S", "/sandbox/runner.py"]

    def session(self, limits: Limits) -> PipeSession:
        uid = self._host_uid()
        extra: dict[str, Any] = {}
        if uid is not None:
            extra = {"user": uid, "group": uid, "extra_groups": [], "cwd": "/"}
        # bwrap itself (PID 1 in the sandbox, /proc/1/environ) gets no host environment either.
        return PipeSession(self.argv(limits), env={"PATH": "/usr/bin:/bin"}, **extra)

    def close(self) -> None:
        pass
