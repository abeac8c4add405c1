"""Docker: warm, locked-down containers; each submission is one ``docker exec`` of the runner.

A container has no network, a read-only root, a size-limited tmpfs at /work as its only writable place, a
non-root user, ``no-new-privileges``, every capability dropped, Docker's default seccomp profile, a cgroup
memory limit (memory+swap), a pids limit and a CPU quota, and no environment from the host. One session
uses a container at a time; the runner removes its work dir and kills every process it did not start
when the session ends. A container is replaced after ``max_runs`` sessions or after any anomaly (a runner
that died or went silent), in the background.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
from collections import defaultdict
from typing import Any

from sandbox.backends.base import LineReader, SandboxUnavailable, SessionBroken
from sandbox.image import ensure_image
from sandbox.limits import Limits

log = logging.getLogger(__name__)

LABEL = "reward-sandbox"
OWNER = f"{LABEL}.owner"  # host:pid of the process that created it, so stale ones can be told apart
RUNNER_ARGV = ["python3", "-S", "/opt/sandbox/runner.py"]


class _Frames:
    """Demultiplexes Docker's attach stream (8-byte headers; 1 = stdout, 2 = stderr) into stdout bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._raw = bytearray()

    def read(self) -> bytes:
        out = bytearray()
        while not out:
            chunk = self.sock.recv(65536)
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


class DockerSession:
    def __init__(self, backend: DockerBackend, key: tuple, container: Any) -> None:
        self.backend, self.key, self.container = backend, key, container
        api = backend.client.api
        exec_id = api.exec_create(container.id, RUNNER_ARGV, stdin=True, stdout=True, stderr=True,
                                  environment={}, workdir="/work")["Id"]
        self._sock = api.exec_start(exec_id, socket=True)._sock
        self._sock.settimeout(None)
        frames = _Frames(self._sock)

        def wait(t: float) -> bool:
            self._sock.settimeout(t)
            return True

        def read() -> bytes:
            try:
                return frames.read()
            except TimeoutError:
                raise SessionBroken("runner gave no answer in time") from None

        self._reader = LineReader(read, wait)

    def send(self, message: dict[str, Any]) -> None:
        try:
            self._sock.sendall((json.dumps(message) + "\n").encode())
        except OSError as exc:
            raise SessionBroken("runner is gone") from exc

    def recv(self, timeout: float) -> dict[str, Any]:
        return self._reader.line(timeout)

    def close(self, anomaly: bool = False) -> None:
        if not anomaly:
            try:  # end of input: the runner sweeps and exits; wait for that before reusing the container
                self._sock.shutdown(socket.SHUT_WR)
                self._sock.settimeout(5)
                tail = bytearray()
                while chunk := self._sock.recv(65536):
                    tail += chunk
                anomaly = b'"clean": true' not in tail  # leftovers it could not kill: replace the container
            except OSError:
                anomaly = True
        self._sock.close()
        self.backend._release(self.key, self.container, anomaly)


class DockerBackend:
    name = "docker"
    address_space_rlimit = False  # the cgroup limits memory
    nproc_rlimit = False          # the cgroup limits pids
    sweep = True
    workdir_base = "/work"

    def __init__(self, client: Any = None, max_runs: int = 100, build: bool = True) -> None:
        try:
            import docker
            self.client = client or docker.from_env(timeout=30)
            self.client.ping()
        except Exception as exc:
            raise SandboxUnavailable(f"Docker engine not reachable: {exc}") from exc
        self.image = ensure_image(self.client, build=build)
        self.max_runs = max_runs
        self._idle: dict[tuple, list[Any]] = defaultdict(list)
        self._runs: dict[str, int] = {}
        self._lock = threading.Lock()

    def _create(self, limits: Limits) -> Any:
        memory = f"{limits.memory_mb + 64}m"  # the runner's own share on top of the program's
        return self.client.containers.run(
            self.image, ["sleep", "infinity"], detach=True,
            labels={LABEL: "1", OWNER: f"{socket.gethostname()}:{os.getpid()}"},
            network_mode="none", read_only=True, user="10001:10001", working_dir="/work",
            tmpfs={"/work": f"rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777", "/tmp": "rw,size=1m"},
            cap_drop=["ALL"], security_opt=["no-new-privileges"], mem_limit=memory, memswap_limit=memory,
            pids_limit=limits.pids, nano_cpus=int(limits.cpus * 1e9), environment={}, ipc_mode="private")

    def session(self, limits: Limits) -> DockerSession:
        key = (limits.memory_mb, limits.pids, limits.cpus, limits.tmpfs_mb)
        with self._lock:
            container = self._idle[key].pop() if self._idle[key] else None
        if container is None:
            try:
                container = self._create(limits)
            except Exception as exc:
                raise SandboxUnavailable(f"could not start a sandbox container: {exc}") from exc
            self._runs[container.id] = 0
        try:
            return DockerSession(self, key, container)
        except Exception as exc:
            self._discard(container)
            raise SessionBroken(f"could not exec into the sandbox: {exc}") from exc

    def _release(self, key: tuple, container: Any, anomaly: bool) -> None:
        runs = self._runs.get(container.id, 0) + 1
        self._runs[container.id] = runs
        if anomaly or runs >= self.max_runs:
            threading.Thread(target=self._discard, args=(container,), daemon=True).start()
            return
        with self._lock:
            self._idle[key].append(container)

    def _discard(self, container: Any) -> None:
        self._runs.pop(container.id, None)
        try:
            container.remove(force=True)
        except Exception:
            log.warning("could not remove sandbox container %s", container.short_id, exc_info=True)

    def close(self) -> None:
        with self._lock:
            containers = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in containers:
            self._discard(c)


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
        c.remove(force=True)
    return len(stale)
