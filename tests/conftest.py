"""Shared fixtures: a real service on loopback, and the CI rule that a missing dependency fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def need(ok: bool, reason: str) -> None:
    """Skip when ``ok`` is false, but fail under CI: there, a test that cannot run is a defect."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """``python -m reward_service serve`` in a subprocess, on a free loopback port."""

    def __init__(self, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"reward-service-{self.port}.log"), "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reward_service", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             *args], env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"service not ready after {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def service() -> Iterator[Service]:
    """One embedded-default service for the API tests: 2 graders, short limits to test them quickly."""
    svc = Service({"REWARD_WORKERS": "2", "REWARD_ITEM_TIMEOUT_S": "3", "REWARD_MAX_ITEMS": "300",
                   "REWARD_MAX_BODY_BYTES": str(2 * 1024 * 1024), "REWARD_SANDBOX_BACKEND": "none"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


# -- the Redis queue: a real redis-server and real worker processes --------------------------------------

class RedisServer:
    """``redis-server`` on a free loopback port, AOF on (``appendfsync always``), files in ``directory``;
    ``restart()`` keeps the port and the files."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.dir = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        import redis
        log = open(self.dir / "redis.log", "a")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.exceptions.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start:\n" + (self.dir / "redis.log").read_text()) from None
            time.sleep(0.05)

    def client(self) -> Any:
        import redis
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # a clean shutdown: what `docker restart` does
            self.proc.wait(timeout=20)

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class Workers:
    """Queue worker processes, restarted when they exit (compose's restart policy). They run the real worker
    through ``tests/reward_service/_fault_worker.py``, which adds the test faults (slow and poison items)."""

    def __init__(self, url: str, env: dict[str, str], count: int, log_dir: Path, restart: bool = True) -> None:
        self.url, self.env, self.log_dir = url, env, log_dir
        self.exits: list[int] = []
        self._closing = not restart
        self._lock = threading.Lock()
        self.procs = [self._spawn() for _ in range(count)]
        self._watch = threading.Thread(target=self._supervise, daemon=True)
        self._watch.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{time.monotonic_ns()}.log", "w")
        return subprocess.Popen([sys.executable, "-m", "tests.reward_service._fault_worker", "--redis-url", self.url],
                                env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def _supervise(self) -> None:
        while not self._closing:
            with self._lock:
                for i, proc in enumerate(self.procs):
                    if proc.poll() is not None and not self._closing:
                        self.exits.append(proc.returncode)
                        self.procs[i] = self._spawn()
            time.sleep(0.1)

    def signal(self, index: int, sig: int) -> None:
        self.procs[index].send_signal(sig)

    def pause(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGCONT)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop(self) -> None:
        self._closing = True
        self._watch.join(timeout=5)
        for proc in self.procs:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private redis-server per test module (needs the Debian ``redis-server`` package)."""
    import shutil
    need(shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


TINY_RM_WORDS = ("the answer is four because two and two make four a helpful kind reply rude unsafe words "
                 "question what is two plus user assistant : <think> </think> sure here you go no I will not")


def build_tiny_rm(out: Path) -> str:
    """A tiny random-init Qwen2 reward model (one label) and word-level tokenizer saved at ``out`` (no hub)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    from trainer.tiny import build_tokenizer
    tokenizer = build_tokenizer([TINY_RM_WORDS])
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, num_labels=1, max_position_embeddings=512,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    Qwen2ForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def backend(request):
    """Each sandbox test runs on Docker and on bubblewrap (a failure under CI if one is missing)."""
    from sandbox import SandboxUnavailable, get_backend
    try:
        return get_backend(request.param)
    except SandboxUnavailable as exc:
        need(False, f"{request.param} sandbox unavailable: {exc}")


# -- gVisor: the sandbox suite again under REWARD_SANDBOX_DOCKER_RUNTIME=runsc (.ci/run) --------------------
# Tests that cannot hold under Debian's gVisor (2022, ptrace platform), by node id, with the reason.
# Each is still a 0 for the submission (the sandbox fails closed); what differs is the verdict's name or that
# the submission's own later tests are lost with its runner.
_ADV = "tests/sandbox/test_adversarial.py::"
_PID1 = ("this gVisor lets a process signal its sandbox's PID 1, which Linux refuses: the runner dies, the "
         "submission gets runtime_error and the container is replaced")
_OOM = ("this gVisor enforces the memory cgroup by killing the runner, not the program: runtime_error (a 0), "
        "not memory_limit")
_COMPILE_OOM = ("this runsc cannot update a live container, so a compile runs within the run's memory limit, and "
                "its OOM kills the runner: sandbox_error (no score), not compile_error")
_RT, _LEAKS, _DOCKER = ("tests/sandbox/test_runtime_attacks.py::", "tests/sandbox/test_leaks.py::",
                        "tests/sandbox/test_docker.py::")
RUNSC_LEFT_OUT: dict[str, str] = {
    **{_RT + f"test_hostile_submission[docker-{lang}-memory_bomb]": _OOM for lang in ("javascript", "go", "rust")},
    **{_RT + f"test_a_compiler_bomb_ends_within_its_limits[docker-{bomb}]": _COMPILE_OOM
       for bomb in ("cpp includes /dev/zero", "go gigabyte of static data", "rust includes /dev/zero")},
    "tests/sandbox/test_asserts.py::test_limits_end_the_test_whatever_the_test_code_does_with_the_error[docker]": _OOM,
    _DOCKER + "test_a_compile_has_the_compile_memory_limit_and_the_tests_the_runs": (
        "this runsc cannot update a live container: compiles keep the run's memory limit (by design, README)"),
    "tests/sandbox/test_judge.py::test_a_compile_gets_the_compile_memory_limit_not_the_runs[docker]": (
        "this runsc cannot update a live container: compiles keep the run's memory limit (by design, README)"),
    "tests/sandbox/test_tool.py::test_a_program_past_its_memory_ends_with_a_non_zero_code[docker]": _OOM,
    "tests/sandbox/test_repl.py::test_a_memory_bomb_ends_the_session_and_says_why[docker]": _OOM,
    "tests/sandbox/test_repl.py::test_close_ends_the_process_and_leaves_nothing_for_the_next[docker]": (
        "the test looks for the program's process on the host: under gVisor a sandbox's processes are not"),
    **{_DOCKER + name: ("under gVisor a container serves one submission (its runner cannot list SysV IPC "
                        "objects to remove them, so it is never reused): there is no reuse to count")
       for name in ("test_a_container_is_replaced_after_max_runs", "test_idle_containers_are_capped_and_reaped")},
    _LEAKS + "test_state_left_by_one_submission_is_gone_for_the_next[docker-posix_mqueue]": (
        "this gVisor has no POSIX message queues (mq_open: ENOSYS): nothing can be left behind"),
    _LEAKS + "test_state_left_by_one_submission_is_gone_for_the_next[docker-keyring]": (
        "runsc does not apply Docker's seccomp profile, so add_key succeeds; the key lives in gVisor's own kernel "
        "of that container, and under gVisor a container is never reused (its SysV IPC cannot be listed): the "
        "next submission sees nothing"),
    _ADV + "test_hostile_submission[docker-growing_memory]": _OOM,
    _ADV + "test_hostile_submission[docker-memory_bomb]": _OOM,
    _ADV + "test_hostile_submission[docker-kill_and_stop_the_runner]": _PID1,
    _ADV + "test_hostile_submission[docker-signal_everyone]": _PID1,
    _ADV + "test_killing_or_stopping_every_other_process_hurts_no_later_test[docker-KILL]": _PID1,
    _ADV + "test_killing_or_stopping_every_other_process_hurts_no_later_test[docker-STOP]": _PID1,
    _ADV + "test_hostile_submission[docker-ptrace_the_runner]": (
        "ptrace under gVisor's ptrace platform blocks the program until its time runs out: time_limit (a 0)"),
    _ADV + "test_hostile_submission[docker-stderr_flood]": (
        "every write is a trapped syscall on the ptrace platform: 16 MB of stderr runs past the time limit"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("REWARD_SANDBOX_DOCKER_RUNTIME", "runc") != "runsc":
        return
    for item in items:
        reason = RUNSC_LEFT_OUT.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"left out under runsc: {reason}"))
