"""One cgroup per bubblewrap session: memory (swap included), pids and CPU, on cgroup v1 or v2.

Why: rlimits are per process. Six processes under a 512 MiB address-space limit hold 3 GiB between them,
a SysV shared-memory segment outlives the process that touched it, and nothing caps CPU time per second.
A cgroup charges every process, thread, tmpfs page and shm page of a session to one counter, and its
members can all be found and killed.

Layout: a subtree ``reward-sandbox`` under the service's own cgroup (per hierarchy on v1), one child per
session named ``<service pid>-<n>``. The sandbox's first process enters its cgroup before it execs bwrap
(:meth:`Group.open_procs`), so every descendant is counted from its first instruction. Children left behind
by a service that died are removed when the next one finds the hierarchy.

v2: the memory, pids and cpu controllers must be available to the service's cgroup. A cgroup that enables
controllers for its children may not hold processes itself, so when enabling them fails with EBUSY, the
processes of the service's cgroup move into a leaf ``reward-service`` beside the subtree (what systemd's
``Delegate=yes`` units and Docker-in-Docker do).
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import signal
import time
from dataclasses import dataclass

CONTROLLERS = ("memory", "pids", "cpu")
SUBTREE, SERVICE_LEAF = "reward-sandbox", "reward-service"
CPU_PERIOD_US = 100_000
_names = itertools.count()  # one sequence per process: several backends may share a hierarchy
KILL_AFTER_S = 0.2  # a session's cgroup not empty by then (its bwrap was killed): kill what is left in it


class Unavailable(RuntimeError):
    """No writable cgroup hierarchy with the memory, pids and cpu controllers."""


@dataclass(frozen=True)
class Spec:
    memory_bytes: int  # memory + swap
    pids: int
    cpus: float


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _rmdir(path: str) -> bool:
    """Remove an empty cgroup; True when it is gone, False while it still has members."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return False
        raise
    return True


def _members(path: str) -> list[int]:
    try:
        return [int(p) for p in _read(os.path.join(path, "cgroup.procs")).split()]
    except OSError:
        return []


class Group:
    """A session's cgroup: one directory (v2), or one per hierarchy (v1; the memory one first)."""

    def __init__(self, version: int, dirs: tuple[str, ...]) -> None:
        self.version, self.dirs = version, dirs

    @property
    def memory_dir(self) -> str:
        return self.dirs[0]

    def open_procs(self) -> list[int]:
        """Write-only descriptors of the group's ``cgroup.procs``, opened now (by the service): a child writes
        ``0`` to each before it execs (``0`` is "the writer"), and its descendants are born inside."""
        fds: list[int] = []
        try:
            for d in self.dirs:
                fds.append(os.open(os.path.join(d, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def set_memory(self, memory_bytes: int) -> None:
        """Change the memory (and memory+swap) limit of a live group: raised for a compile, lowered after."""
        d = self.memory_dir
        if self.version == 2:
            _write(os.path.join(d, "memory.max"), str(memory_bytes))
            return
        limit, memsw = os.path.join(d, "memory.limit_in_bytes"), os.path.join(d, "memory.memsw.limit_in_bytes")
        if not os.path.exists(memsw):
            _write(limit, str(memory_bytes))
            return
        raising = memory_bytes > int(_read(limit))
        for path in ((memsw, limit) if raising else (limit, memsw)):  # memory+swap may never be below memory
            _write(path, str(memory_bytes))

    def kill(self) -> None:
        """SIGKILL every member (v2's ``cgroup.kill`` does it atomically; v1 by pid, which is how systemd does
        it on v1 too)."""
        for d in self.dirs:
            if self.version == 2 and os.path.exists(os.path.join(d, "cgroup.kill")):
                _write(os.path.join(d, "cgroup.kill"), "1")
                continue
            for pid in _members(d):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def destroy(self, timeout: float = 5.0) -> bool:
        """Remove the group once it is empty (its members are killed if they linger); True when it is gone."""
        started = time.monotonic()
        pause = 0.0005
        left = list(self.dirs)
        while True:
            left = [d for d in left if not _rmdir(d)]
            now = time.monotonic()
            if not left:
                return True
            if now - started > timeout:
                return False
            if now - started > KILL_AFTER_S:
                self.kill()
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


class Hierarchy:
    """Where session groups are made: ``subtrees`` maps each controller to its ``reward-sandbox`` directory
    (on v2 all three are the same one)."""

    def __init__(self, version: int, subtrees: dict[str, str]) -> None:
        self.version, self.subtrees = version, subtrees

    def describe(self) -> str:
        return f"cgroup v{self.version} limits"

    def _dirs(self, name: str) -> tuple[str, ...]:
        unique = dict.fromkeys(self.subtrees[c] for c in CONTROLLERS)  # v2: one; v1: memory first
        return tuple(os.path.join(d, name) for d in unique)

    def create(self, spec: Spec) -> Group:
        group = Group(self.version, self._dirs(f"{os.getpid()}-{next(_names)}"))
        try:
            for d in group.dirs:
                os.mkdir(d, 0o755)
            self._limit(group, spec)
        except OSError:
            group.destroy(timeout=1.0)
            raise
        return group

    def _limit(self, group: Group, spec: Spec) -> None:
        quota = max(1000, int(spec.cpus * CPU_PERIOD_US))
        if self.version == 2:
            d = group.dirs[0]
            _write(os.path.join(d, "memory.max"), str(spec.memory_bytes))
            if os.path.exists(os.path.join(d, "memory.swap.max")):
                _write(os.path.join(d, "memory.swap.max"), "0")
            _write(os.path.join(d, "pids.max"), str(spec.pids))
            _write(os.path.join(d, "cpu.max"), f"{quota} {CPU_PERIOD_US}")
            return
        memory, pids, cpu = (os.path.join(self.subtrees[c], os.path.basename(group.dirs[0])) for c in CONTROLLERS)
        _write(os.path.join(memory, "memory.limit_in_bytes"), str(spec.memory_bytes))
        if os.path.exists(os.path.join(memory, "memory.memsw.limit_in_bytes")):  # kernels with swap accounting
            _write(os.path.join(memory, "memory.memsw.limit_in_bytes"), str(spec.memory_bytes))
        _write(os.path.join(pids, "pids.max"), str(spec.pids))
        _write(os.path.join(cpu, "cpu.cfs_period_us"), str(CPU_PERIOD_US))
        _write(os.path.join(cpu, "cpu.cfs_quota_us"), str(quota))

    def sweep_stale(self) -> int:
        """Remove the session groups of services that are gone (killed before they could clean up)."""
        removed = 0
        stale: dict[str, list[str]] = {}
        for d in dict.fromkeys(self.subtrees.values()):
            for name in os.listdir(d):
                match = re.fullmatch(r"(\d+)-\d+", name)
                if match and not _alive(int(match.group(1))):
                    stale.setdefault(name, []).append(os.path.join(d, name))
        for dirs in stale.values():
            removed += Group(self.version, tuple(dirs)).destroy(timeout=1.0)
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _own_paths(self_cgroup: str) -> dict[str, str]:
    """Controller (``""`` for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    for line in _read(self_cgroup).splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            paths[c] = path
    return paths


def _under(mount: str, path: str) -> str:
    """The service's cgroup directory under ``mount`` (the mount itself inside a container whose cgroup
    namespace hides the path)."""
    own = os.path.join(mount, path.lstrip("/"))
    return own if os.path.isdir(own) else mount


def _v2(root: str, own: str) -> Hierarchy:
    base = _under(root, own)
    missing = set(CONTROLLERS) - set(_read(os.path.join(base, "cgroup.controllers")).split())
    if missing:
        raise Unavailable(f"cgroup v2: the {', '.join(sorted(missing))} controller(s) are not delegated to {base}")
    subtree = os.path.join(base, SUBTREE)
    _enable(base)
    os.makedirs(subtree, exist_ok=True)
    _enable(subtree)
    _write(os.path.join(subtree, "cpu.weight"), str(min(10_000, 100 * _busy_tasks())))
    return Hierarchy(2, dict.fromkeys(CONTROLLERS, subtree))


def _busy_tasks() -> int:
    """How many busy tasks the subtree weighs as against the host's other tasks. A cgroup competes as one
    task by default, so that every sandbox together would get one task's share of a busy machine; sandboxes
    running as plain processes got one each. One per CPU: about as many as run at once."""
    return os.cpu_count() or 1


def _enable(cgroup: str) -> None:
    """Enable the controllers for ``cgroup``'s children, first moving its own processes into a leaf if it
    has any (EBUSY: the no-internal-processes rule)."""
    wanted = " ".join(f"+{c}" for c in CONTROLLERS)
    for _ in range(5):
        try:
            _write(os.path.join(cgroup, "cgroup.subtree_control"), wanted)
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
        leaf = os.path.join(cgroup, SERVICE_LEAF)
        os.makedirs(leaf, exist_ok=True)
        for pid in _members(cgroup):
            try:
                _write(os.path.join(leaf, "cgroup.procs"), str(pid))
            except OSError:  # exited meanwhile, or a kernel thread
                pass
    raise Unavailable(f"cgroup v2: could not enable {wanted} for the children of {cgroup} (processes keep "
                      "arriving in it)")


def _v1_mount(root: str, controller: str) -> str | None:
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return None
    for name in names:  # "memory", "pids", "cpu" or a joint mount such as "cpu,cpuacct"
        path = os.path.join(root, name)
        if controller in name.split(",") and not os.path.islink(path) and \
                os.path.exists(os.path.join(path, "cgroup.procs")):
            return path
    return None


def _v1(root: str, own: dict[str, str]) -> Hierarchy:
    subtrees = {}
    for c in CONTROLLERS:
        mount = _v1_mount(root, c)
        if mount is None:
            raise Unavailable(f"no cgroup v2 hierarchy at {root}, and no v1 hierarchy with the {c} controller")
        subtree = os.path.join(_under(mount, own.get(c, "/")), SUBTREE)
        os.makedirs(subtree, exist_ok=True)
        if c == "cpu":
            _write(os.path.join(subtree, "cpu.shares"), str(1024 * _busy_tasks()))
        subtrees[c] = subtree
    return Hierarchy(1, subtrees)


def find(root: str = "/sys/fs/cgroup", self_cgroup: str = "/proc/self/cgroup") -> Hierarchy:
    """The writable hierarchy under ``root`` (v2 when it has the controllers, else v1), checked by making and
    removing a group. Raises :class:`Unavailable` with a one-line reason."""
    try:
        own = _own_paths(self_cgroup)
        if os.path.exists(os.path.join(root, "cgroup.controllers")):
            hierarchy = _v2(root, own.get("", "/"))
        else:
            hierarchy = _v1(root, own)
        hierarchy.sweep_stale()
        probe = hierarchy.create(Spec(memory_bytes=64 << 20, pids=8, cpus=1.0))
        probe.destroy(timeout=1.0)
    except OSError as exc:
        path = f" ({exc.filename})" if exc.filename else ""
        raise Unavailable(f"cgroups at {root} are not usable: {exc.strerror or exc}{path}") from exc
    return hierarchy
