"""What a tenant's recipe can reach through the LLM judges, over real HTTP (issue 17, item 2): only the judges
the operator declared in REWARD_JUDGES, by name. A recipe that carries a URL, a key variable or a limit is a
422; so is a name not declared; neither the service's keys nor any other variable of its environment reach a
URL of the caller's; a judge's error body never comes back. The judge is a fake on loopback
(tests/reward_service/_fake_judge.py); the service, and on the Redis path its API and worker, are real.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.conftest import Service, Workers
from tests.reward_service._fake_judge import BODY_MARKER, Judge, data_of, declared, reset, serve

KEY = "tenancy-api-key-" + uuid.uuid4().hex
SECRET = "tenancy-secret-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {KEY}"}
UNREAD = {"task": "math", "answer": "12", "prompt": "How many eggs are in a dozen?",
          "completion": "<think>hmm</think> <answer>twelve eggs, I think</answer>"}


def env(url: str, **judges: dict) -> dict[str, str]:
    return {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_API_KEYS": KEY,
            "TENANCY_SECRET": SECRET, "JUDGE_KEY": "the-judges-own-key",
            "REWARD_JUDGES": json.dumps(judges or declared(url, judge={"api_key_env": "JUDGE_KEY"}))}


@pytest.fixture(scope="module")
def judge_url():
    with serve() as url:
        yield url


@pytest.fixture(scope="module")
def service(judge_url):
    svc = Service(env(judge_url))
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def post(svc: Service, path: str, judge_options: dict, where: str = "judge_fallback") -> httpx.Response:
    spec = {"accuracy": {"options": {"judge_fallback": judge_options}}} if where == "judge_fallback" else \
        {"llm_judge": {"options": judge_options}}
    return httpx.post(svc.url + path, json={"items": [UNREAD], "recipe": {"components": spec}}, headers=AUTH,
                      timeout=60)


def assert_no_secret_left_the_service() -> None:
    for call in Judge.calls:
        assert KEY not in str(call["auth"]) and SECRET not in str(call["auth"]), call


@pytest.mark.parametrize("path", ["/score", "/jobs"])
@pytest.mark.parametrize("options", [
    {"base_url": "{url}", "model": "judge", "api_key_env": "REWARD_API_KEYS"},
    {"base_url": "{url}", "model": "judge", "api_key_env": "TENANCY_SECRET"},
    {"judge": "judge", "api_key_env": "TENANCY_SECRET"},
    {"judge": "judge", "base_url": "{url}"},
])
def test_a_recipe_that_chooses_a_url_or_a_key_is_a_422_and_no_secret_leaves(service, judge_url, path, options):
    """Today's service sent the named variable (its own API keys, any host secret) as a bearer token to the
    caller's URL."""
    reset()
    options = {k: v.replace("{url}", judge_url) if isinstance(v, str) else v for k, v in options.items()}
    responses = [post(service, path, options, where) for where in ("judge_fallback", "llm_judge")]
    assert_no_secret_left_the_service()
    assert Judge.calls == []
    for r in responses:
        assert r.status_code == 422, r.text
        assert "judges are declared by the operator in REWARD_JUDGES" in r.text


@pytest.mark.parametrize("path", ["/score", "/jobs"])
def test_a_judge_not_declared_is_a_422_listing_the_declared(service, path):
    r = post(service, path, {"judge": "ghost"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "recipe", "components", "accuracy", "options", "judge_fallback", "judge"]
    assert "judge 'ghost' is not declared (declared: down, flaky, garbage, garbage-once, judge, leaky, " in error["msg"]


def test_a_declared_judge_is_called_with_its_own_key_only(service):
    reset()
    r = post(service, "/score", {"judge": "judge"})
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert (result["reward"], result["details"]["accuracy"]["decided_by"]) == (1.0, "judge")
    assert [c["auth"] for c in Judge.calls] == ["Bearer the-judges-own-key"]
    assert data_of(Judge.calls[0]["prompt"])["student_final_answer"] == "twelve eggs, I think"


def test_an_error_body_never_comes_back(service):
    """Today's service echoed 200 characters of any URL's error body: a read of internal services."""
    r = post(service, "/score", {"judge": "leaky"})
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["reward"] is None and result["error"] == "judge: judge 'leaky' answered HTTP 400"
    assert BODY_MARKER not in r.text


# -- the Redis path: the API checks names against its declaration, each worker against its own -------------

@pytest.mark.redis
def test_a_worker_without_the_judge_fails_that_item_alone(redis_server, judge_url, tmp_path):
    both = declared(judge_url)
    worker_only = {"judge": both["judge"]}
    workers = Workers(redis_server.url, env(judge_url, **worker_only), count=1, log_dir=tmp_path, restart=False)
    api = Service(env(judge_url, **both), ("--redis-url", redis_server.url))
    try:
        api.wait_ready()
        deadline = time.monotonic() + 60
        while "reward_workers_alive 1.0" not in httpx.get(api.url + "/metrics", headers=AUTH).text:
            assert time.monotonic() < deadline, "the worker did not become ready:\n" + workers.logs()
            time.sleep(0.2)
        judged = post(api, "/score", {"judge": "judge"})
        lacking = post(api, "/score", {"judge": "leaky"})
        refused = post(api, "/score", {"judge": "ghost"})
    finally:
        api.stop()
        workers.stop()
    assert judged.status_code == 200 and judged.json()["results"][0]["reward"] == 1.0, judged.text
    [result] = lacking.json()["results"]
    assert result["status"] == "error"
    assert result["error"] == "judge: judge 'leaky' is not declared here (declared: judge; REWARD_JUDGES)"
    assert refused.status_code == 422 and "'ghost' is not declared" in refused.text
