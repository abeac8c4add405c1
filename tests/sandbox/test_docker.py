"""The Docker backend's containers: locked down as documented, recycled, and gone with their owner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from sandbox import Limits, SandboxUnavailable, Verdict, get_backend, get_language, judge, parse_tests
from sandbox.backends.docker import OWNER, USERSPACE_KERNELS, DockerBackend
from tests.conftest import ROOT, need

pytestmark = pytest.mark.docker
ADD = parse_tests({"inputs": ["2 3\n"], "outputs": ["5\n"]})
ADD_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture(scope="module")
def docker_backend() -> DockerBackend:
    try:
        return get_backend("docker")
    except SandboxUnavailable as exc:
        need(False, f"docker sandbox unavailable: {exc}")


def _ours(backend: DockerBackend) -> list:
    """This process's sandbox containers (one evicted from the idle pool meanwhile is left out)."""
    import docker.errors
    found = []
    for summary in backend.client.api.containers(filters={"label": f"{OWNER}={os.uname().nodename}:{os.getpid()}"}):
        try:
            found.append(backend.client.containers.get(summary["Id"]))
        except docker.errors.NotFound:
            pass
    return found


def test_containers_are_locked_down(docker_backend):
    limits = Limits(memory_mb=200, pids=32, cpus=0.5, tmpfs_mb=16)
    assert judge(ADD_PY, get_language("python"), ADD, docker_backend, limits).verdict is Verdict.accepted
    base, per_process = USERSPACE_KERNELS.get(docker_backend.runtime, (0, 1))  # gVisor's own threads count
    [attrs] = [c.attrs for c in _ours(docker_backend) if c.attrs["HostConfig"]["PidsLimit"] == base + 32 * per_process]
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["Runtime"] == docker_backend.runtime
    assert host["NetworkMode"] == "none" and config["NetworkDisabled"] is True
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["Privileged"] is False
    assert host["Memory"] == host["MemorySwap"] == (200 + 64) << 20 and host["NanoCpus"] == 5 * 10**8
    assert set(host["Tmpfs"]) == {"/work", "/tmp"} and "size=16m" in host["Tmpfs"]["/work"]
    assert host["IpcMode"] == "private" and host["AutoRemove"] is True and not host["Binds"]
    assert config["User"] == "10001:10001" and config["StdinOnce"] is True
    assert all(e.split("=")[0] in ("PATH", "LANG") for e in config["Env"]), config["Env"]


def test_a_container_is_replaced_after_max_runs():
    backend = DockerBackend(max_runs=2)
    try:
        py = get_language("python")
        ids = []
        for _ in range(3):
            assert judge(ADD_PY, py, ADD, backend).verdict is Verdict.accepted
            deadline = time.monotonic() + 10  # a replacement starts in the background
            while not any(backend._idle.values()) and time.monotonic() < deadline:
                time.sleep(0.05)
            ids.append(next(w.id for idle in backend._idle.values() for w in idle))
        assert ids[0] != ids[1] == ids[2]  # the second run was the last of the first container
    finally:
        backend.close()


def test_idle_containers_are_capped_and_reaped(monkeypatch):
    """Items with many different limits must not leave a container per limit running for ever."""
    from sandbox.backends import docker as docker_module
    backend = DockerBackend()
    try:
        py = get_language("python")
        for memory in (128, 160, 192, 224, 256, 288):  # six limits, six containers made
            report = judge(ADD_PY, py, ADD, backend, Limits(memory_mb=memory))
            assert report.verdict is Verdict.accepted
        assert backend.idle() == docker_module.MAX_IDLE
        kept = {w.limits.memory_mb for idle in backend._idle.values() for w in idle}
        assert kept == {192, 224, 256, 288}  # the most recently used
        monkeypatch.setattr(docker_module, "IDLE_S", 0.0)  # now all of them are too old
        time.sleep(0.01)
        assert judge(ADD_PY, py, ADD, backend, Limits(memory_mb=288)).verdict is Verdict.accepted
        assert backend.idle() == 1  # only the one just used
    finally:
        backend.close()


def test_a_killed_grader_leaves_no_container_behind(docker_backend):
    # The service kills a grader process that runs past its hard limit; its containers must not pile up.
    script = textwrap.dedent("""
        from sandbox import get_backend, get_language, judge, parse_tests
        judge("import time\\nprint(1, flush=True)\\ntime.sleep(60)", get_language("python"),
              parse_tests([{"input": "", "output": "1"}]), get_backend("docker"))
        """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    label = {"label": f"{OWNER}={os.uname().nodename}:{proc.pid}"}
    client = docker_backend.client
    deadline = time.monotonic() + 30
    # sparse: the list alone, no inspect of each container (one removed between the two would raise NotFound)
    while not client.containers.list(filters=label, sparse=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.containers.list(filters=label, sparse=True), "the grader never started its container"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 15
    while client.containers.list(all=True, filters=label, sparse=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not client.containers.list(all=True, filters=label, sparse=True)


def test_containers_keep_no_log(docker_backend):
    # Everything the runner says (program output included) would otherwise pile up in a json-file log.
    limits = Limits(memory_mb=208)
    noisy = "import sys\nsys.stdout.write('x' * 900000)\nsys.stderr.write('y' * 900000)\n"
    judge(noisy, get_language("python"), ADD, docker_backend, limits)
    [container] = [c for c in _ours(docker_backend) if c.attrs["HostConfig"]["Memory"] == (208 + 64) << 20]
    assert container.attrs["HostConfig"]["LogConfig"]["Type"] == "none"
    path = container.attrs.get("LogPath") or ""
    assert not path or not os.path.exists(path) or os.path.getsize(path) == 0


def test_a_compile_has_the_compile_memory_limit_and_the_tests_the_runs(docker_backend):
    # The container's cgroup is raised for g++ and lowered again before the first test.
    hog = "#include <vector>\n#include <cstdio>\nint main(){std::vector<char> v(200u << 20, 1); std::puts(\"5\");}\n"
    suite = parse_tests({"inputs": [""], "outputs": ["5"]})
    assert judge(hog, get_language("cpp"), suite, docker_backend, Limits(memory_mb=64)).verdict is Verdict.memory_limit
