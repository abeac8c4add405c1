"""The sandbox as a tool with the Redis queue: tool calls run on the workers, a session's calls reach the
worker that holds it, and a worker that dies or drains takes its sessions with it (410 at once, not a wait).

Real redis-server, two real worker processes with a real sandbox (auto: Docker here, bubblewrap without it),
and an API started with REWARD_SANDBOX_BACKEND=none: it cannot run a tool call itself.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import time

import httpx
import pytest

from reward_service import constants as k
from tests.conftest import Service, Workers, need
from tests.reward_service.test_handoff import pid_of, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ALPHA, BETA = "alpha-tools-redis-key", "beta-tools-redis-key"
COMMON = {"REWARD_WORKERS": "1", "REWARD_CODE_WORKERS": "1", "REWARD_API_KEYS": f"{ALPHA},{BETA}",
          "REWARD_LOG_FORMAT": "text"}
WORKER_ENV = {**COMMON, "REWARD_SANDBOX_BACKEND": "auto"}
API_ENV = {**COMMON, "REWARD_SANDBOX_BACKEND": "none"}  # every tool call it answers, a worker ran


def http(api: Service, key: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def hosts(redis) -> dict[str, dict]:
    """Tool hosts beating lately -> their reports (a few seconds' slack: a loaded machine beats late)."""
    now = time.time()
    reports = {name: json.loads(raw) for name, raw in redis.hgetall(k.TOOL_HOSTS).items()}
    return {name: r for name, r in reports.items() if r["at"] >= now - 5.0}


def host_of(session: str) -> str:
    return session.rpartition(".")[0]


def settled(redis, workers: Workers) -> None:
    """Both running workers beating, reporting no session and no call (earlier tests' deletions reported);
    a killed worker's last report does not count."""
    def idle() -> bool:
        running = {p.pid for p in workers.procs if p.poll() is None}
        reports = {name: r for name, r in hosts(redis).items() if pid_of(name) in running}
        return len(running) == 2 and {pid_of(name) for name in reports} == running and all(
            r["sessions"] == 0 and r["calls"] == 0 and not r["draining"] for r in reports.values())
    wait_for(idle, 120, "two idle workers", every=0.1)


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    workers = Workers(redis_server.url, WORKER_ENV, count=2, log_dir=tmp_path_factory.mktemp("workers"))
    api = Service(API_ENV, ("--redis-url", redis_server.url))
    redis = redis_server.client()
    try:
        api.wait_ready()
        wait_for(lambda: {pid_of(n) for n in hosts(redis)} >= {p.pid for p in workers.procs}, 120,
                 "both workers' tool hosts beating", every=0.2)
        yield api, workers, redis
    finally:
        api.stop()
        workers.stop()


def create(client: httpx.Client) -> str:
    answer = client.post("/sessions", json={})
    assert answer.status_code == 201, answer.text
    return answer.json()["session_id"]


def value(client: httpx.Client, session: str, code: str) -> str:
    answer = client.post(f"/sessions/{session}/run", json={"code": code})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "Finished", body
    return body["display"][0]["text/plain"] if body["display"] else body["stdout"]


def worker_index(workers: Workers, name: str) -> int:
    return next(i for i, p in enumerate(workers.procs) if p.pid == pid_of(name))


def test_run_code_and_run_jupyter_are_answered_by_a_worker(stack):
    api, _, redis = stack
    with http(api, ALPHA) as alpha:
        answer = alpha.post("/run_code", json={"code": "print(sum(map(int, input().split())))",
                                               "language": "python", "stdin": "1 2 3\n"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "Success" and body["run_result"]["stdout"] == "6\n", body
        assert body["executor_pod_name"] in hosts(redis)  # a worker ran it, not the API (it has no sandbox)
        cells = alpha.post("/run_jupyter", json={"cells": ["x = 20", "x * 2 + 2"]}).json()
        assert cells["status"] == "Success" and cells["cells"][1]["display"] == [{"text/plain": "42"}], cells
        bad = alpha.post("/run_code", json={"code": "print(1)", "language": "python", "memory_limit_MB": 4})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "memory_limit_MB"], bad.text


def test_sessions_keep_their_state_on_their_worker_and_belong_to_their_key(stack):
    api, workers, redis = stack
    settled(redis, workers)
    with http(api, ALPHA) as alpha, http(api, BETA) as beta:
        first, second = create(alpha), create(alpha)
        assert {host_of(first), host_of(second)} == set(hosts(redis)), "two sessions in a row: both workers"
        value(alpha, first, "x = 1")
        value(alpha, second, "x = 100")
        for _ in range(3):  # every call reaches the session's own process
            value(alpha, first, "x += 1")
        assert value(alpha, first, "x") == "4" and value(alpha, second, "x") == "100"
        assert beta.post(f"/sessions/{first}/run", json={"code": "x"}).status_code == 404
        assert beta.delete(f"/sessions/{first}").status_code == 404
        assert alpha.post("/sessions/not-a-session/run", json={"code": "1"}).status_code == 404
        assert alpha.delete(f"/sessions/{first}").status_code == 204
        assert alpha.post(f"/sessions/{first}/run", json={"code": "x"}).status_code == 404
        alpha.delete(f"/sessions/{second}")


def test_readyz_and_metrics_count_the_workers_sessions(stack):
    api, workers, redis = stack
    settled(redis, workers)  # no session left from earlier tests, as reported
    with http(api, ALPHA) as alpha:
        made = [create(alpha) for _ in range(3)]
        wait_for(lambda: alpha.get("/readyz").json().get("sessions") == 3, 30, "/readyz counts them")
        text = alpha.get("/metrics").text
        assert float(re.search(r"^reward_sessions_live (\S+)$", text, re.M).group(1)) == 3
        for session in made:
            assert alpha.delete(f"/sessions/{session}").status_code == 204
        wait_for(lambda: alpha.get("/readyz").json().get("sessions") == 0, 30, "/readyz sees them closed")
        wait_for(lambda: re.search(r'^reward_sessions_ended_total\{how="deleted"\} (\S+)$',
                                   alpha.get("/metrics").text, re.M), 30, "the deletions counted")


def test_a_killed_worker_takes_its_sessions_with_it_at_once(stack):
    api, workers, redis = stack
    settled(redis, workers)
    with http(api, ALPHA) as alpha:
        first, second = create(alpha), create(alpha)
        assert host_of(first) != host_of(second)
        value(alpha, first, "x = 1")
        value(alpha, second, "y = 2")
        workers.signal(worker_index(workers, host_of(first)), signal.SIGKILL)
        killed = time.monotonic()
        answer = alpha.post(f"/sessions/{first}/run", json={"code": "x"})  # within heartbeat_s, not 120 s
        print(f"410 {time.monotonic() - killed:.2f} s after the SIGKILL")
        assert answer.status_code == 410, answer.text
        assert host_of(first) in answer.json()["detail"] and "stopped" in answer.json()["detail"]
        assert value(alpha, second, "y") == "2"  # the other worker's session goes on
        alpha.delete(f"/sessions/{second}")


def test_a_draining_worker_closes_its_sessions_and_takes_no_new_ones(stack):
    api, workers, redis = stack
    settled(redis, workers)  # the killed worker's replacement too
    with http(api, ALPHA) as alpha:
        first, second = create(alpha), create(alpha)
        stopping, other = host_of(first), host_of(second)
        assert stopping != other
        value(alpha, first, "x = 1")
        workers.signal(worker_index(workers, stopping), signal.SIGTERM)
        wait_for(lambda: redis.hget(k.TOOL_HOSTS, stopping) is None
                 or json.loads(redis.hget(k.TOOL_HOSTS, stopping) or "{}").get("draining"), 30, "it drains")
        answer = alpha.post(f"/sessions/{first}/run", json={"code": "x"})
        assert answer.status_code == 410 and stopping in answer.json()["detail"], answer.text
        for _ in range(2):  # new sessions and runs go to the other worker (or its replacement), never there
            session = create(alpha)
            assert host_of(session) != stopping
            alpha.delete(f"/sessions/{session}")
            ran = alpha.post("/run_code", json={"code": "print(1)", "language": "python"}).json()
            assert ran["status"] == "Success" and ran["executor_pod_name"] != stopping, ran
        assert alpha.post(f"/sessions/{second}/run", json={"code": "1 + 1"}).status_code == 200
        alpha.delete(f"/sessions/{second}")


def test_no_live_worker_is_503_at_once(redis_server):
    url = redis_server.url.rsplit("/", 1)[0] + "/5"  # a database no worker has ever used
    api = Service(API_ENV, ("--redis-url", url))
    try:
        api.wait_ready()
        with http(api, ALPHA) as alpha:
            for answer in (alpha.post("/run_code", json={"code": "print(1)", "language": "python"}),
                           alpha.post("/sessions", json={})):
                assert answer.status_code == 503 and "no live queue worker" in answer.json()["detail"], answer.text
            assert alpha.post("/sessions/ghost-1-abc.secret/run", json={"code": "1"}).status_code == 410
    finally:
        api.stop()
