"""Shared fixtures: a real service on loopback, and the CI rule that a missing dependency fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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
