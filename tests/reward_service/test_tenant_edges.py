"""What a caller without a key, or with a hostile body, gets at the edge of the API (issue 17): auth before
validation, ``/readyz`` and ``/metrics`` that tell outsiders nothing, and nested JSON that fails alone."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from reward_service.api.app import create_app
from reward_service.api.metrics import CountingBackend
from reward_service.settings import Settings
from tests.conftest import Service, free_port
from tests.reward_service.test_auth import ITEM, RECIPE, FakeBackend, bearer, client

KEYS = {"api_keys": "alpha,beta"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body", [b"{not json", b'{"items": 3}', b'{"itemz": []}', b""])
def test_a_malformed_body_without_a_key_is_401_not_422(body):
    with client(**KEYS) as c:
        for route in ("/score", "/jobs", "/get_reward"):
            r = c.post(route, content=body, headers={"content-type": "application/json"})
            assert r.status_code == 401, (route, r.text)
            assert "loc" not in r.text  # nothing about what a valid request looks like
        r = c.post("/score", content=body, headers={"content-type": "application/json", **bearer("alpha")})
        assert r.status_code == 422  # with a key: validation as before


class Telling(FakeBackend):
    """Says what a real backend says when ready: which sandbox, with which limits."""

    async def ready(self):
        return {"ok": True, "sandbox": "ok", "sandbox_detail": "docker: cgroup v2 limits"}


def telling_client(**settings) -> TestClient:
    return TestClient(create_app(Settings(sandbox_backend="none", **settings), backend=CountingBackend(Telling())))


def test_readyz_without_a_key_says_only_ready_or_not():
    with telling_client(**KEYS) as c:
        outsider = c.get("/readyz")
        assert outsider.status_code == 200 and outsider.json() == {"status": "ready"}
        assert c.get("/readyz", headers=bearer("gamma")).json() == {"status": "ready"}  # a wrong key: the same
        assert c.get("/readyz", headers=bearer("alpha")).json()["sandbox_detail"] == "docker: cgroup v2 limits"
        assert c.get("/healthz").status_code == 200
    with telling_client() as c:  # auth off: everyone is a caller
        assert c.get("/readyz").json()["sandbox"] == "ok"


def test_metrics_need_a_key_when_keys_are_on():
    with client(**KEYS) as c:
        c.post("/score", json={"items": [ITEM], "recipe": RECIPE}, headers=bearer("alpha"))
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers=bearer("gamma")).status_code == 401
        r = c.get("/metrics", headers=bearer("beta"))
        assert r.status_code == 200 and "reward_request_seconds" in r.text
    with client() as c:
        assert c.get("/metrics").status_code == 200  # auth off: as before


def test_the_metrics_port_serves_metrics_alone_and_the_api_port_none():
    metrics_port = free_port()
    svc = Service({"REWARD_API_KEYS": "alpha", "REWARD_METRICS_PORT": str(metrics_port), "REWARD_WORKERS": "1",
                   "REWARD_SANDBOX_BACKEND": "none"})
    try:
        svc.wait_ready()
        scrape = f"http://127.0.0.1:{metrics_port}"
        r = httpx.get(scrape + "/metrics")  # Prometheus, no key
        assert r.status_code == 200 and "reward_request_seconds" in r.text
        for path in ("/score", "/healthz", "/jobs/x", "/docs"):
            assert httpx.get(scrape + path).status_code == 404, path
        assert httpx.post(scrape + "/score", json={"items": [ITEM]}).status_code == 404
        assert httpx.get(svc.url + "/metrics", headers=bearer("alpha")).status_code == 404
        assert httpx.post(svc.url + "/score", json={"items": [ITEM], "recipe": RECIPE},
                          headers=bearer("alpha")).status_code == 200
    finally:
        svc.stop()


def test_the_metrics_port_must_differ_from_the_api_port():
    from pydantic import ValidationError

    from reward_service.settings import Settings
    with pytest.raises(ValidationError, match="metrics_port must differ"):
        Settings(port=9000, metrics_port=9000)


@pytest.mark.parametrize(("field", "item", "recipe"), [
    ("tests", '{"task": "code", "completion": "x", "tests": {"inputs": DEEP, "outputs": []}}', None),
    ("tests", '{"task": "code", "completion": "x", "tests": [{"input": "1", "output": DEEP}]}', None),
    ("answer", '{"task": "countdown", "completion": "x", "answer": {"target": 1, "numbers": DEEP}}', None),
    ("options", '{"completion": "x"}', '{"components": {"format": {"options": {"mode": DEEP}}}}'),
], ids=["tests-inputs", "tests-cases", "countdown-answer", "recipe-options"])
def test_json_nested_past_the_bound_is_a_422_naming_the_field(field, item, recipe, service):
    # 800 deep: within what the JSON parser accepts, past what anything recursive after it should meet.
    for route in ("/score", "/jobs"):
        body = '{"items": [' + item + "]" + ("" if recipe is None else ', "recipe": ' + recipe) + "}"
        body = body.replace("DEEP", nested(800))
        r = httpx.post(service.url + route, content=body, headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 422, (route, r.status_code, r.text[:300])
        named = [d for d in r.json()["detail"] if d["loc"][-1] == field]  # a recipe is a name or a spec: two
        assert named and "nested deeper than 64 levels" in named[0]["msg"], r.text[:500]
        assert len(r.content) < 2000  # the deep input is not echoed back


def test_json_nested_within_the_bound_is_graded(service):
    inputs = nested(30)  # a nested list of lists, as a test's argument may be
    body = {"items": [{"id": 1, "task": "code", "completion": "x", "tests": {"inputs": [inputs], "outputs": ["0"]}}]}
    r = httpx.post(service.url + "/score", json=body, timeout=30)
    assert r.status_code == 200 and r.json()["results"][0]["id"] == 1


def test_json_too_deep_for_the_parser_is_a_clean_4xx(service):
    body = '{"items": [{"completion": "x", "tests": DEEP}]}'.replace("DEEP", nested(100_000))
    r = httpx.post(service.url + "/score", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, r.text[:200]
    assert httpx.get(service.url + "/healthz").status_code == 200
