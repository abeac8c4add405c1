"""Model pools on the Redis path: a chunk whose recipe names a reward model goes to a worker that serves it
(its pool's stream), rule-only chunks go anywhere, and ``/readyz`` says which pools have workers.

Real redis-server, real worker processes (one plain, one started with ``--models`` and a tiny random-init
reward model built here), the API over HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

pytest.importorskip("torch")  # the [rm] extra; CI installs it

from reward_service import constants as k  # noqa: E402
from tests.conftest import ROOT, Service, build_tiny_rm  # noqa: E402

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "4",
       "REWARD_SCORE_TIMEOUT_S": "60", "REWARD_LOG_FORMAT": "text"}


def worker(url: str, log_path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reward_service", "worker", "--redis-url", url, *args],
                            env={**os.environ, **ENV}, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, cwd=ROOT)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def readyz(api: Service) -> dict:
    return httpx.get(api.url + "/readyz", timeout=10).json()


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    logs = tmp_path_factory.mktemp("pool-workers")
    rm = build_tiny_rm(tmp_path_factory.mktemp("rm"))
    plain = worker(redis_server.url, logs / "plain.log")
    models = worker(redis_server.url, logs / "models.log", "--models", rm)
    api = Service(ENV, ("--redis-url", redis_server.url))
    try:
        api.wait_ready()
        wait_for(lambda: readyz(api).get("pools") == {rm: 1} and readyz(api)["workers"] == 2, 120,
                 "both workers up and the model pool listed")
        yield api, redis_server, rm, plain, models
    finally:
        api.stop()
        for proc in (plain, models):
            proc.terminate()
            proc.wait(timeout=30)


def mixed(rm: str) -> dict:
    recipe = {"components": {"accuracy": {}, "reward_model": {"options": {"model": rm, "normalize": "sigmoid"}}}}
    items = [{"id": f"m{i}", "task": "math", "answer": str(i), "completion": f"<think>count</think> \\boxed{{{i}}}"}
             for i in range(6)]
    items += [{"id": f"g{i}", "task": "none", "prompt": "what is two plus two", "completion": "sure here you go " * i}
              for i in range(1, 7)]
    return {"items": items, "recipe": recipe}


def entries_read(redis, stream: str) -> int:
    return next(g["entries-read"] or 0 for g in redis.xinfo_groups(stream) if g["name"] == k.GROUP)


def test_model_chunks_go_to_the_pool_and_rule_chunks_anywhere(stack):
    api, server, rm, _, _ = stack
    redis = server.client()
    pool_stream = k.pool_streams(k.pool_of([rm]))[1]
    before_pool, before_general = entries_read(redis, pool_stream), entries_read(redis, k.STREAM)
    r = httpx.post(api.url + "/score", json=mixed(rm), timeout=120)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert all(res["status"] == "ok" for res in results), results
    assert all(res["components"]["accuracy"] == 1.0 for res in results if res["id"].startswith("m"))
    assert all(0 < res["components"]["reward_model"] < 1 for res in results)
    # 12 items in chunks of 4: three chunks, all on the pool's stream, none on the general one.
    assert entries_read(redis, pool_stream) - before_pool == 3
    assert entries_read(redis, k.STREAM) == before_general
    rules = {"items": mixed(rm)["items"][:6], "recipe": "accuracy"}
    r = httpx.post(api.url + "/score", json=rules, timeout=120)
    assert r.status_code == 200 and all(res["reward"] == 1.0 for res in r.json()["results"])
    assert entries_read(redis, k.STREAM) - before_general == 2 and entries_read(redis, pool_stream) - before_pool == 3


def test_without_a_worker_serving_the_model_score_says_so_at_once(stack):
    api, server, rm, plain, models = stack
    models.send_signal(signal.SIGTERM)
    assert models.wait(timeout=60) == 0
    wait_for(lambda: readyz(api).get("pools") == {rm: 0}, 30, "the pool listed with no worker")
    started = time.monotonic()
    r = httpx.post(api.url + "/score", json=mixed(rm), timeout=60)
    assert r.status_code == 503 and time.monotonic() - started < 5
    assert f"no queue worker serves reward model(s) {rm}" in r.json()["detail"]
    assert f"worker --models {rm}" in r.json()["detail"]
    r = httpx.post(api.url + "/score", json={"items": mixed(rm)["items"][:2], "recipe": "accuracy"}, timeout=60)
    assert r.status_code == 200  # rule-only work still goes to the plain worker
    assert plain.poll() is None


def test_a_worker_whose_model_cannot_load_stops_at_start_with_one_line(redis_server, tmp_path):
    done = subprocess.run([sys.executable, "-m", "reward_service", "worker", "--redis-url", redis_server.url,
                           "--models", "/nonexistent/rm"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **ENV})
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("reward-service: reward model '/nonexistent/rm' cannot be loaded"), done.stderr
