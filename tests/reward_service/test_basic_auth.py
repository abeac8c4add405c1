"""The API key as the HTTP Basic password (any user name), for clients that take only a URL: verl's
``sandbox_fusion_url``, SkyRL, SandboxFusion's client. Real HTTP with httpx and with ``requests`` (which verl
and SandboxFusion's client use); the key never reaches the logs."""

from __future__ import annotations

import base64
import json
import shutil

import httpx
import pytest
import requests

from reward_service.client import RewardClient, RewardServiceError
from tests.conftest import Service, need

KEY = "basic-auth-key-7f3a9c1e5b"
OTHER = "another-valid-key-0d8e2b"
CODE = {"code": "print(6 * 7)", "language": "python"}


@pytest.fixture(scope="module")
def keyed():
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "auto", "REWARD_API_KEYS": f"{KEY},{OTHER}",
                   "REWARD_LOG_LEVEL": "debug"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def url(svc: Service, user: str, password: str, path: str = "/run_code") -> str:
    return f"http://{user}:{password}@127.0.0.1:{svc.port}{path}"


def test_httpx_with_the_key_in_the_url(keyed):
    answer = httpx.post(url(keyed, "any", KEY), json=CODE, timeout=60)
    assert answer.status_code == 200 and answer.json()["run_result"]["stdout"] == "42\n"
    assert httpx.post(url(keyed, "", KEY), json=CODE, timeout=60).status_code == 200  # no user name at all


def test_requests_as_verl_posts_it(keyed):
    """verl's call_sandbox_api (verl/utils/reward_score/sandbox_fusion/utils.py): requests.post of a JSON
    string to ``sandbox_fusion_url`` itself, which here carries the key."""
    payload = json.dumps({"compile_timeout": 10, "run_timeout": 10, "code": CODE["code"], "stdin": "",
                          "memory_limit_MB": 1024, "language": "python", "files": {}, "fetch_files": []})
    answer = requests.post(url(keyed, "verl", KEY), headers={"Content-Type": "application/json",
                           "Accept": "application/json"}, data=payload, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "Success" and answer.json()["run_result"]["stdout"] == "42\n"


def test_a_wrong_password_or_no_key_is_401(keyed):
    for user, password in (("any", "wrong"), ("any", ""), (KEY, "wrong"), ("any", KEY[:-1])):
        assert httpx.post(url(keyed, user, password), json=CODE, timeout=30).status_code == 401
        assert requests.post(url(keyed, user, password), json=CODE, timeout=30).status_code == 401
    assert httpx.post(url(keyed, "", "").replace(":@", ""), json=CODE, timeout=30).status_code == 401
    for header in ("Basic not-base64!", "Basic " + "YW55", "Basic", "Digest abc"):  # "YW55" is "any": no colon
        answer = httpx.post(keyed.url + "/run_code", json=CODE, headers={"Authorization": header}, timeout=30)
        assert answer.status_code == 401, header


def test_basic_auth_works_for_every_endpoint_and_owns_like_the_bearer_key(keyed):
    item = {"completion": "<think>x</think> <answer>\\boxed{4}</answer>", "answer": "4"}
    scored = httpx.post(url(keyed, "u", KEY, "/score"), json={"items": [item]}, timeout=60)
    assert scored.status_code == 200 and scored.json()["results"][0]["reward"] == 2.0
    made = httpx.post(url(keyed, "u", KEY, "/sessions"), json={}, timeout=60)
    assert made.status_code == 201
    session = made.json()["session_id"]
    bearer = httpx.post(f"{keyed.url}/sessions/{session}/run", json={"code": "1 + 1"}, timeout=60,
                        headers={"Authorization": f"Bearer {KEY}"})
    assert bearer.status_code == 200 and bearer.json()["display"] == [{"text/plain": "2"}]  # the same owner
    other = httpx.post(url(keyed, "u", OTHER, f"/sessions/{session}/run"), json={"code": "1"}, timeout=60)
    assert other.status_code == 404
    assert httpx.delete(url(keyed, "u", KEY, f"/sessions/{session}"), timeout=60).status_code == 204


def test_the_python_client_takes_the_url_form(keyed):
    with RewardClient(f"http://any:{KEY}@127.0.0.1:{keyed.port}", retries=0) as client:
        assert client.run_code("print('hi')", "python")["run_result"]["stdout"] == "hi\n"
        session = client.create_session(files={"f.txt": b"data"})
        assert client.run_in_session(session, "open('f.txt').read()")["display"] == [{"text/plain": "'data'"}]
        client.delete_session(session)
        client.delete_session(session)  # gone already: fine
        with pytest.raises(RewardServiceError) as gone:
            client.run_in_session(session, "1")
        assert gone.value.status_code == 404
    with RewardClient(f"http://any:wrong@127.0.0.1:{keyed.port}", retries=0) as client:
        with pytest.raises(RewardServiceError) as refused:
            client.run_code("print(1)")
        assert refused.value.status_code == 401


def test_the_key_never_reaches_the_logs(keyed):
    httpx.post(url(keyed, "any", KEY), json=CODE, timeout=60)
    httpx.post(url(keyed, "any", KEY + "-wrong"), json=CODE, timeout=60)
    httpx.post(keyed.url + "/run_code", json=CODE, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    logs = keyed.logs()
    assert "/run_code" in logs  # the access log is there
    assert KEY not in logs and OTHER not in logs
    assert base64.b64encode(f"any:{KEY}".encode()).decode() not in logs  # nor the header that carries it
