"""``/readyz`` on the Redis queue judges the sandbox where code items are graded: the workers' (as each
reports it), not the API's own (in compose the API has no Docker socket)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import Service, Workers

pytestmark = pytest.mark.redis

NO_DOCKER = {"REWARD_SANDBOX_BACKEND": "docker", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
BASE = {"REWARD_WORKERS": "1", "REWARD_LOG_FORMAT": "text"}


def readiness(url: str, want_workers: int, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(url + "/readyz", timeout=10)
        if r.json().get("workers") == want_workers or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_readyz_follows_the_workers_sandbox_not_the_apis(redis_server, tmp_path):
    api = Service({**BASE, **NO_DOCKER}, ("--redis-url", redis_server.url))  # its own sandbox cannot run
    try:
        api.wait_ready()
        fine = Workers(redis_server.url, {**BASE, "REWARD_SANDBOX_BACKEND": "none"}, 1, tmp_path, restart=False)
        try:
            r = readiness(api.url, 1)
            assert r.status_code == 200 and r.json()["sandbox"] == "disabled", r.text
        finally:
            fine.stop()
        assert readiness(api.url, 0).status_code == 503  # no worker at all

        broken = Workers(redis_server.url, {**BASE, **NO_DOCKER}, 1, tmp_path, restart=False)
        try:
            r = readiness(api.url, 1)
            body = r.json()
            assert r.status_code == 503 and body["sandbox"] == "unavailable", r.text
            assert "docker: engine not reachable" in body["sandbox_detail"]  # the worker's reason, one line
            assert redis_server.client().hlen("reward:sandboxes") == 1  # the stopped worker took its report away
        finally:
            broken.stop()
    finally:
        api.stop()
