"""``docker-compose up`` from a fresh clone: build, start, grade a real math batch through the published port
(auth on), tear down. Debian's docker-compose v1 on the images seeded by ../shared/ci/offline-docker.sh.

The API key comes from ``REWARD_API_KEYS`` when set (else a fresh one); the published port from
``REWARD_COMPOSE_TEST_PORT`` (else a free one), since 8000 may be taken where tests run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, need

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]


def _docker_ready() -> bool:
    if shutil.which("docker-compose") is None or shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def _fresh_clone(dest: Path) -> Path:
    """The files a clone would have: tracked and not-ignored untracked ones (so no .env, no build output)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_compose_up_grades_a_math_batch(tmp_path):
    need(_docker_ready(), "needs a Docker engine and docker-compose (../shared/ci/offline-docker.sh)")
    checkout = _fresh_clone(tmp_path / "clone")
    key = (os.environ.get("REWARD_API_KEYS") or "").split(",")[0].strip() or secrets.token_urlsafe(24)
    port = int(os.environ.get("REWARD_COMPOSE_TEST_PORT") or free_port())
    env = {**os.environ, "REWARD_API_KEYS": key, "REWARD_PUBLISH_PORT": str(port), "REWARD_WORKER_REPLICAS": "2"}
    compose = ["docker-compose", "-p", f"rstest{uuid.uuid4().hex[:8]}"]

    def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=timeout)

    try:
        up = run("up", "-d", "--build")  # two workers: deploy.replicas, which v1.29 honours too
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                ready = httpx.get(url + "/readyz", headers={"Authorization": f"Bearer {key}"}, timeout=5)
                if ready.status_code == 200 and ready.json()["workers"] == 2:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready:\n" + run("logs", "--tail", "50").stdout[-6000:]
            time.sleep(1)

        items = [{"id": i, "answer": str(i * i),
                  "completion": f"<think>{i} squared</think> <answer>\\boxed{{{i * i if i % 4 else -1}}}</answer>"}
                 for i in range(1, 41)]
        body = {"items": items, "recipe": "r1-zero"}
        assert httpx.post(url + "/score", json=body, timeout=30).status_code == 401
        r = httpx.post(url + "/score", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["id"] for x in results] == list(range(1, 41))
        assert all(x["status"] == "ok" for x in results)
        assert [x["components"]["accuracy"] for x in results] == [0.0 if i % 4 == 0 else 1.0 for i in range(1, 41)]
        assert all(x["components"]["format"] == 1.0 for x in results)
    finally:
        logs = run("logs", "--tail", "30", timeout=120)
        print(logs.stdout[-8000:])
        down = run("down", "-v", "--remove-orphans", timeout=300)
        assert down.returncode == 0, down.stderr[-2000:]
