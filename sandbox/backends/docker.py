"""Docker: warm, locked-down containers whose PID 1 is the runner; a submission is a session on its channel.

A container has no network, a read-only root, size-limited tmpfs mounts (/work, a tiny /tmp and /dev/shm) as
the only writable places, a non-root user, ``no-new-privileges``, every capability dropped, Docker's default
seccomp profile (which also refuses the keyring calls: keyrings are not namespaced), a cgroup memory limit
(memory+swap, so no swap), a pids limit and a CPU quota, a private IPC namespace, no environment from the
host, and no log (what the runner says, program output included, would otherwise fill the host's disk in
a json-file log). Its PID 1 is the trusted runner, attached to once: as PID 1 it cannot be killed or stopped
from inside (``kill -9 -1`` included), and it is not dumpable, so programs cannot ptrace it. One session uses
a container at a time; after each, the runner kills every other process, removes every IPC object, empties
the writable mounts and reports whether that left the container clean. A container is replaced (in the
background) after ``max_runs`` sessions or after any anomaly: a session that broke off, went silent or left
something behind.

The memory limit is the run's; a session that compiles raises it to the compile limit for the compile
(g++ on template-heavy code needs far more than the programs it builds) and lowers it again before the
first test, with ``docker update`` (not under runsc, which cannot update a live container: compiles there
get the run's limit).

Containers clean up after their owner: the runner's stdin is the attach stream (``StdinOnce``), so when the
owning process dies the runner sees end of input and exits, and the container removes itself.

The OCI runtime is ``REWARD_SANDBOX_DOCKER_RUNTIME`` (default ``runc``): ``runsc`` puts each container under
gVisor's user-space kernel, a second wall for nodes shared with other tenants. Everything above stays as it
is. A runtime the engine does not know stops the backend at start (never a sandbox error per submission).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sandbox.backends.base import (
    END_TIMEOUT_S,
    RUNNER_SHARE_MB,
    CompileMemory,
    LineReader,
    SandboxUnavailable,
    SessionBroken,
)
from sandbox.compile_cache import CompileCache
from sandbox.image import ensure_image
from sandbox.limits import Limits

log = logging.getLogger(__name__)

LABEL = "reward-sandbox"
OWNER = f"{LABEL}.owner"  # host:pid of the process that created it, so stale ones can be told apart
RUNNER_ARGV = ["python3", "-S", "/opt/sandbox/runner.py", "--preload", "--many"]  # --many: see runner.py
USER = "10001:10001"
WIPE = ("/work", "/tmp", "/dev/shm", "/dev/mqueue")
IDLE_S = 300.0  # an idle container unused this long is removed (limits nobody asks for any more)
MAX_IDLE = 4    # idle containers a backend keeps (one per concurrent session it serves is enough)
RUNTIME_ENV = "REWARD_SANDBOX_DOCKER_RUNTIME"  # declared (and documented) in the service's Settings too
# Runtimes with a user-space kernel: the host's pids cgroup counts the kernel's own threads (gVisor: about 40,
# and some 9 per program process under ptrace), so the programs' process limit is RLIMIT_NPROC, which that
# kernel enforces, and the cgroup only bounds the whole sandbox, at a multiple of it.
USERSPACE_KERNELS = {"runsc": (128, 16)}  # runtime: (host pids for itself, host pids per program process)


def configured_runtime() -> str:
    """The OCI runtime sandbox containers run under: the environment's, else ``runc``."""
    return os.environ.get(RUNTIME_ENV, "").strip() or "runc"


def check_runtime(client: Any, runtime: str) -> None:
    """Raise :class:`SandboxUnavailable` unless the engine knows ``runtime``: at start, with the reason, rather
    than a failed container start for every submission."""
    try:
        known = sorted(client.info().get("Runtimes") or {})
    except Exception as exc:
        raise SandboxUnavailable(f"Docker engine did not say its runtimes: {exc}") from exc
    if runtime not in known:
        raise SandboxUnavailable(f"the Docker engine has no runtime {runtime!r} ({RUNTIME_ENV}); it knows "
                                 f"{', '.join(known) or 'none'} (gVisor: install runsc and register it in "
                                 "/etc/docker/daemon.json)")


class _Frames:
    """Demultiplexes Docker's attach stream (8-byte headers; 1 = stdout, 2 = stderr) into stdout bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._raw = bytearray()

    def read(self) -> bytes:
        out = bytearray()
        while not out:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise SessionBroken("runner gave no answer in time") from None
            except OSError as exc:
                raise SessionBroken(f"runner channel failed: {exc}") from exc
            if not chunk:
                return b""
            self._raw += chunk
            while len(self._raw) >= 8:
                stream, size = self._raw[0], struct.unpack(">I", self._raw[4:8])[0]
                if len(self._raw) < 8 + size:
                    break
                if stream == 1:
                    out += self._raw[8:8 + size]
                del self._raw[:8 + size]
        return bytes(out)


class _Warm:
    """A running container and the attached channel to its runner."""

    def __init__(self, container_id: str, sock: socket.socket, limits: Limits) -> None:
        self.id, self.sock, self.limits = container_id, sock, limits
        self.runs = 0
        self.idle_since = time.monotonic()
        frames = _Frames(sock)

        def wait(t: float) -> bool:
            sock.settimeout(t)
            return True

        self.reader = LineReader(frames.read, wait)


def _memory_bytes(memory_mb: int) -> int:
    return (memory_mb + RUNNER_SHARE_MB) * 1024 * 1024


class DockerSession:
    def __init__(self, backend: DockerBackend, warm: _Warm, limits: Limits) -> None:
        self.backend, self.warm, self.limits = backend, warm, limits
        # gVisor's runsc (Debian's, 2022) has no live update: compiles there run within the run's memory limit
        live_update = backend.runtime not in USERSPACE_KERNELS
        self.memory = CompileMemory(self._set_memory if live_update else None, limits)

    def send(self, message: Mapping[str, Any]) -> None:
        self.memory.before(message)
        try:
            self.warm.sock.sendall((json.dumps(message) + "\n").encode())
        except OSError as exc:
            raise SessionBroken("runner is gone") from exc

    def recv(self, timeout: float) -> dict[str, Any]:
        message = self.warm.reader.line(timeout)
        if message.get("end"):
            raise SessionBroken("the runner ended the session early")
        self.memory.after(message)
        return message

    def _set_memory(self, memory_mb: int) -> None:
        size = _memory_bytes(memory_mb)
        self.backend.client.api.update_container(self.warm.id, mem_limit=size, memswap_limit=size)

    def close(self, anomaly: bool = False) -> None:
        anomaly = anomaly or self.memory.raised  # never hand on a container with the compile's limit
        if not anomaly:
            try:  # wait for the runner's sweep before the container serves anyone else
                self.send({"stop": True})
                anomaly = self.warm.reader.line(END_TIMEOUT_S).get("clean") is not True
            except SessionBroken:
                anomaly = True
        self.backend._release(self.warm, anomaly)


class DockerBackend:
    name = "docker"
    address_space_rlimit = False  # the cgroup limits memory
    nproc_rlimit = False          # the cgroup limits pids (RLIMIT_NPROC under a user-space kernel: see __init__)
    workdir_base = "/work"
    sweep: tuple[str, ...] | None = WIPE

    def __init__(self, client: Any = None, max_runs: int = 500, build: bool = True,
                 runtime: str | None = None) -> None:
        try:
            import docker
            self.client = client or docker.from_env(timeout=30)
            self.client.ping()
        except Exception as exc:
            raise SandboxUnavailable(f"Docker engine not reachable: {exc}") from exc
        self.runtime = runtime or configured_runtime()
        check_runtime(self.client, self.runtime)
        self.nproc_rlimit = self.runtime in USERSPACE_KERNELS
        try:
            self.image = ensure_image(self.client, build=build)
        except Exception as exc:
            raise SandboxUnavailable(f"no sandbox image: {exc}") from exc
        try:
            remove_stale(self.client)
        except Exception:
            log.warning("could not look for stale sandbox containers", exc_info=True)
        self.toolchain: str = self.image
        self.compile_cache: CompileCache | None = CompileCache()
        self.max_runs = max_runs
        self._idle: dict[tuple, list[_Warm]] = defaultdict(list)
        self._lock = threading.Lock()
        self._closed = False

    def describe(self) -> str:
        return f"warm containers of {self.image}, runtime {self.runtime}"

    @staticmethod
    def _key(limits: Limits) -> tuple:
        return (limits.memory_mb, limits.pids, limits.cpus, limits.tmpfs_mb)

    def _create(self, limits: Limits) -> _Warm:
        api = self.client.api
        memory = _memory_bytes(limits.memory_mb)
        base, per_process = USERSPACE_KERNELS.get(self.runtime, (0, 1))
        host_config = api.create_host_config(
            network_mode="none", read_only=True, auto_remove=True, ipc_mode="private", shm_size=4 * 1024 * 1024,
            log_config={"type": "none"},
            tmpfs={"/work": f"rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777",
                   "/tmp": "rw,nosuid,nodev,size=1m,mode=1777"},
            cap_drop=["ALL"], security_opt=["no-new-privileges"], mem_limit=memory, memswap_limit=memory,
            pids_limit=base + per_process * limits.pids, nano_cpus=int(limits.cpus * 1e9), runtime=self.runtime)
        # detach=False with stdin_open sets StdinOnce: the runner's stdin closes when our attach does.
        container_id = api.create_container(
            self.image, RUNNER_ARGV, detach=False, stdin_open=True, user=USER, working_dir="/work",
            environment={}, network_disabled=True, host_config=host_config,
            labels={LABEL: "1", OWNER: f"{socket.gethostname()}:{os.getpid()}"})["Id"]
        try:
            sock = api.attach_socket(container_id, params={"stdin": 1, "stdout": 1, "stream": 1})._sock
            api.start(container_id)
        except Exception:
            self._remove(container_id)
            raise
        return _Warm(container_id, sock, limits)

    def session(self, limits: Limits) -> DockerSession:
        with self._lock:
            idle = self._idle[self._key(limits)]
            warm = idle.pop() if idle else None
        if warm is None:
            try:
                warm = self._create(limits)
            except Exception as exc:
                raise SandboxUnavailable(f"could not start a sandbox container: {exc}") from exc
        return DockerSession(self, warm, limits)

    def prewarm(self, limits: Limits, count: int = 1) -> None:
        """Start ``count`` containers for ``limits`` now, so that the first submissions do not wait."""
        self._park([self._create(limits) for _ in range(count)])

    def _release(self, warm: _Warm, anomaly: bool) -> None:
        warm.runs += 1
        if anomaly or warm.runs >= self.max_runs:
            threading.Thread(target=self._replace, args=(warm,), daemon=True).start()
            return
        self._park([warm])

    def _park(self, warms: list[_Warm]) -> None:
        """Keep ``warms`` for the next sessions; remove idle containers past ``IDLE_S`` or ``MAX_IDLE`` (the
        least recently used first), in the background."""
        now = time.monotonic()
        with self._lock:
            for warm in warms:
                warm.idle_since = now
                self._idle[self._key(warm.limits)].append(warm)
            parked = sorted((w for idle in self._idle.values() for w in idle), key=lambda w: w.idle_since)
            stale = [w for w in parked if now - w.idle_since > IDLE_S]
            fresh = [w for w in parked if now - w.idle_since <= IDLE_S]
            evicted = stale + fresh[:max(0, len(fresh) - MAX_IDLE)]
            for warm in evicted:
                self._idle[self._key(warm.limits)].remove(warm)
            self._idle = defaultdict(list, {key: idle for key, idle in self._idle.items() if idle})
        if evicted:
            threading.Thread(target=self._discard_all, args=(evicted,), daemon=True).start()

    def _discard_all(self, warms: list[_Warm]) -> None:
        for warm in warms:
            self._discard(warm)

    def idle(self) -> int:
        """Idle containers kept now."""
        with self._lock:
            return sum(len(idle) for idle in self._idle.values())

    def _replace(self, warm: _Warm) -> None:
        """Discard ``warm``; start its successor, so that the next submission finds one ready."""
        self._discard(warm)
        if not self._closed:
            try:
                self.prewarm(warm.limits)
            except Exception:
                log.warning("could not start a replacement sandbox container", exc_info=True)

    def _discard(self, warm: _Warm) -> None:
        try:
            warm.sock.close()
        except OSError:
            pass
        self._remove(warm.id)

    def _remove(self, container_id: str) -> None:
        import docker.errors
        try:
            self.client.api.remove_container(container_id, force=True)
        except docker.errors.NotFound:
            pass  # it removed itself
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: removal already in progress
                log.warning("could not remove sandbox container %s: %s", container_id[:12], exc)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            warms = [w for idle in self._idle.values() for w in idle]
            self._idle.clear()
        for w in warms:
            self._discard(w)


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another host's: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale(client: Any) -> int:
    """Remove sandbox containers whose creating process on this host is gone."""
    stale = [c for c in client.containers.list(all=True, filters={"label": LABEL})
             if not _owner_alive(c.labels.get(OWNER, ""))]
    for c in stale:
        try:
            c.remove(force=True)
        except Exception:
            pass
    return len(stale)
