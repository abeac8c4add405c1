"""``docker-compose up --scale worker=3``: nothing in compose.yaml pins a worker's name or port, the three
workers share the one Redis stream, and the chunks of a batch spread over all three.

Who graded what is read off Redis itself: ``redis-cli monitor`` in the Redis container prints every command
with its client's address, and a worker acknowledges (XACK) each chunk once it has answered all of it, so
the container IPs that send XACK are the workers that took part. Same clone, key and port rules as
:mod:`tests.test_compose`.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import threading
import time
import uuid
from collections import Counter

import httpx
import pytest

from tests.conftest import free_port, need
from tests.test_compose import _docker_ready, _fresh_clone

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]

WORKERS = 3
ITEMS = 320  # 10 chunks of the default 32: more chunks than workers
MAX_BATCHES = 8  # a bound, not a timing: each batch is a new chance for an idle worker to claim a chunk
_ADDR = re.compile(r'^\S+ \[\d+ ([0-9.]+):\d+\] "XACK"', re.IGNORECASE)


def _batch(n: int) -> list[dict]:
    return [{"id": i, "answer": str(i), "completion": f"<think>send {n}</think> <answer>\\boxed{{{i}}}</answer>"}
            for i in range(ITEMS)]


def _acks_by_ip(lines: list[str]) -> Counter[str]:
    return Counter(m.group(1) for line in lines if (m := _ADDR.match(line)))


def test_scaled_workers_all_take_part(tmp_path):
    need(_docker_ready(), "needs a Docker engine and docker-compose (../shared/ci/offline-docker.sh)")
    checkout = _fresh_clone(tmp_path / "clone")
    key = (os.environ.get("REWARD_API_KEYS") or "").split(",")[0].strip() or secrets.token_urlsafe(24)
    port = int(os.environ.get("REWARD_COMPOSE_TEST_PORT") or free_port())
    env = {**os.environ, "REWARD_API_KEYS": key, "REWARD_PUBLISH_PORT": str(port)}
    env.pop("REWARD_WORKER_REPLICAS", None)  # --scale alone says how many
    compose = ["docker-compose", "-p", f"rsscale{uuid.uuid4().hex[:8]}"]
    auth = {"Authorization": f"Bearer {key}"}

    def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=timeout)

    monitor = None
    try:
        up = run("up", "-d", "--build", "--scale", f"worker={WORKERS}")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                ready = httpx.get(url + "/readyz", headers=auth, timeout=5)
                if ready.status_code == 200 and ready.json()["workers"] == WORKERS:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready:\n" + run("logs", "--tail", "50").stdout[-6000:]
            time.sleep(1)
        ids = run("ps", "-q", "worker").stdout.split()
        assert len(ids) == WORKERS
        inspect = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}"
                                  "{{end}}", *ids], capture_output=True, text=True, check=True, timeout=60)
        worker_ips = set(inspect.stdout.split())
        assert len(worker_ips) == WORKERS

        monitor = subprocess.Popen([*compose, "exec", "-T", "redis", "redis-cli", "monitor"], cwd=checkout, env=env,
                                   stdout=subprocess.PIPE, text=True)
        out = monitor.stdout
        assert out is not None and out.readline().strip() == "OK"  # monitoring from here on
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(out), daemon=True).start()  # every command, as it comes

        for n in range(MAX_BATCHES):
            r = httpx.post(url + "/score", json={"items": _batch(n), "recipe": "r1-zero"}, headers=auth, timeout=300)
            assert r.status_code == 200, r.text
            results = r.json()["results"]
            assert [x["id"] for x in results] == list(range(ITEMS))
            assert all(x["status"] == "ok" and x["components"] == {"accuracy": 1.0, "format": 1.0} for x in results)
            if set(_acks_by_ip(list(lines))) >= worker_ips:
                break
        acks = _acks_by_ip(list(lines))
        print(f"chunks acknowledged per worker after {n + 1} batch(es): {dict(acks)}")
        assert set(acks) == worker_ips, f"workers {sorted(worker_ips)} but XACKs from {dict(acks)}"
        assert sum(acks.values()) >= (n + 1) * ITEMS // 32
    finally:
        if monitor is not None:
            monitor.kill()
            monitor.wait(30)
        logs = run("logs", "--tail", "30", timeout=120)
        print(logs.stdout[-8000:])
        down = run("down", "-v", "--remove-orphans", timeout=300)
        assert down.returncode == 0, down.stderr[-2000:]
