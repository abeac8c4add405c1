"""Stateful Python sessions over real HTTP, each a Python process in a real sandbox (auto: Docker here,
bubblewrap without it): state kept, owned by a key, expiry, caps, a session whose process died, delete."""

from __future__ import annotations

import base64
import re
import shutil
import threading
import time

import httpx
import pytest

from tests.conftest import Service, need

ALPHA, BETA, GAMMA = "alpha-session-key", "beta-session-key", "gamma-session-key"


def sandbox_service(**env: str) -> Service:
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    return Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "auto",
                    "REWARD_API_KEYS": f"{ALPHA},{BETA},{GAMMA}", **env})


@pytest.fixture(scope="module")
def svc():
    service = sandbox_service(REWARD_TOOL_CONCURRENCY="24")
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def small():
    """Caps of 2 per key and 3 in all, and a 1 s default TTL."""
    service = sandbox_service(REWARD_SESSIONS_PER_KEY="2", REWARD_SESSIONS_MAX="3", REWARD_SESSION_TTL_S="1")
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()


class Caller:
    def __init__(self, service: Service, key: str) -> None:
        self.http = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    def create(self, **body) -> str:
        answer = self.http.post("/sessions", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["session_id"]

    def run(self, session: str, code: str, **body) -> httpx.Response:
        return self.http.post(f"/sessions/{session}/run", json={"code": code, **body})

    def value(self, session: str, code: str) -> str:
        answer = self.run(session, code)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "Finished", body
        return body["display"][0]["text/plain"] if body["display"] else body["stdout"]

    def delete(self, session: str) -> httpx.Response:
        return self.http.delete(f"/sessions/{session}")

    def live(self) -> int:
        return self.http.get("/readyz").json()["sessions"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_variables_imports_and_files_persist_between_runs(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create(files={"data/in.txt": b64(b"3 4")})
    assert alpha.value(session, "x = 41") == ""
    assert alpha.value(session, "x + 1") == "42"
    assert alpha.value(session, "import math\na, b = map(int, open('data/in.txt').read().split())") == ""
    assert alpha.value(session, "math.hypot(a, b)") == "5.0"
    assert alpha.value(session, "open('notes.txt', 'a').write('one,'); open('notes.txt', 'a').write('two');") == ""
    assert alpha.value(session, "print(open('notes.txt').read())") == "one,two\n"
    files = alpha.http.post(f"/sessions/{session}/files", json={"paths": ["notes.txt", "missing.txt"]})
    assert files.status_code == 200 and files.json() == {"files": {"notes.txt": b64(b"one,two")}}
    assert alpha.value(session, "import sys; sys.stdin.read()") == "''"
    with_stdin = alpha.run(session, "print(sum(map(int, input().split())))", stdin="1 2 3\n").json()
    assert with_stdin["stdout"] == "6\n" and with_stdin["alive"] is True
    raised = alpha.run(session, "undefined_name").json()
    assert raised["status"] == "Error" and raised["error"] == "NameError: name 'undefined_name' is not defined"
    assert alpha.value(session, "x") == "41"  # an error does not end the session
    assert alpha.delete(session).status_code == 204


def test_another_keys_session_is_404_like_a_missing_one(svc):
    alpha, beta = Caller(svc, ALPHA), Caller(svc, BETA)
    session = alpha.create()
    alpha.value(session, "secret = 'alpha'")
    missing = beta.run(svc_id_like(session), "1")
    stolen = beta.run(session, "secret")
    assert stolen.status_code == missing.status_code == 404 and stolen.json() == missing.json()
    assert beta.http.post(f"/sessions/{session}/files", json={"paths": ["x"]}).status_code == 404
    assert beta.delete(session).status_code == 404
    assert alpha.value(session, "secret") == "'alpha'"  # untouched
    assert alpha.delete(session).status_code == 204


def svc_id_like(session: str) -> str:
    """An id of the same replica and shape that was never made."""
    replica, _, secret = session.partition(".")
    return f"{replica}.{'A' * len(secret)}"


def test_an_id_of_another_replica_is_410_saying_so(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create()
    replica = session.split(".")[0]
    other = ("0" if replica[0] != "0" else "1") + replica[1:]
    answer = alpha.run(f"{other}.{'B' * 32}", "1")
    assert answer.status_code == 410 and "another replica" in answer.json()["detail"]
    assert alpha.run("not-an-id", "1").status_code == 404
    alpha.delete(session)


def test_delete_frees_everything_and_a_new_session_sees_nothing(svc):
    alpha = Caller(svc, ALPHA)
    before = alpha.live()
    session = alpha.create(files={"given.txt": b64(b"secret")})
    alpha.value(session, "kept = 1\nopen('made.txt', 'w').write('secret')")
    assert alpha.live() == before + 1
    assert alpha.delete(session).status_code == 204
    assert alpha.live() == before
    assert alpha.run(session, "kept").status_code == 404
    assert alpha.delete(session).status_code == 404
    fresh = alpha.create()
    assert alpha.run(fresh, "kept").json()["error"].startswith("NameError")
    assert alpha.value(fresh, "import os; [f for f in ('given.txt', 'made.txt') if os.path.exists(f)]") == "[]"
    alpha.delete(fresh)


def test_delete_during_a_run_ends_it_and_that_run_answers_410(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create()
    answers: list[httpx.Response] = []
    running = threading.Thread(target=lambda: answers.append(alpha.run(session, "while True: pass", timeout_s=5)))
    running.start()
    time.sleep(0.5)  # let it start
    assert alpha.delete(session).status_code == 204
    running.join()
    assert answers[0].status_code == 410 and "deleted" in answers[0].json()["detail"]
    assert alpha.run(session, "1").status_code == 404


def test_readyz_and_metrics_show_live_sessions(svc):
    alpha = Caller(svc, ALPHA)
    before = alpha.live()
    sessions = [alpha.create(), alpha.create()]
    assert alpha.live() == before + 2
    metrics = alpha.http.get("/metrics").text
    assert re.search(rf"^reward_sessions_live {before + 2}(\.0)?$", metrics, re.M), metrics
    for session in sessions:
        alpha.delete(session)
    metrics = alpha.http.get("/metrics").text
    assert re.search(rf"^reward_sessions_live {before}(\.0)?$", metrics, re.M)
    assert re.search(r'^reward_sessions_ended_total\{how="deleted"\} [1-9]', metrics, re.M)


def test_runs_of_one_session_go_one_at_a_time(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create()
    code = "import time\nfor _ in range(4):\n    open('log', 'a').write('{c}')\n    time.sleep(0.1)"
    threads = [threading.Thread(target=alpha.run, args=(session, code.format(c=c))) for c in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert alpha.value(session, "open('log').read()") in ("'aaaabbbb'", "'bbbbaaaa'")
    alpha.delete(session)


def test_a_run_past_its_timeout_ends_in_that_status_and_the_session_goes_on(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create(limits={"timeout_s": 30})
    alpha.value(session, "x = 7")
    slow = alpha.run(session, "while True: pass", timeout_s=1).json()
    assert slow["status"] == "TimeLimitExceeded" and slow["alive"] is True
    assert alpha.value(session, "x") == "7"
    alpha.delete(session)


def test_a_session_whose_process_was_killed_is_410_once_then_404(svc):
    alpha = Caller(svc, ALPHA)
    session = alpha.create()
    # a cell that blocks the timer's signal cannot be stopped in the process: the host kills it
    blocked = alpha.run(session, "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
                                 "while True: pass", timeout_s=1)
    if blocked.status_code == 200:  # the run answered, and said the session is over
        assert blocked.json()["status"] == "TimeLimitExceeded" and blocked.json()["alive"] is False
        gone = alpha.run(session, "1")
    else:
        gone = blocked
    assert gone.status_code == 410 and "session" in gone.json()["detail"]
    assert alpha.run(session, "1").status_code == 404
    exited = alpha.create()
    first = alpha.run(exited, "import os\nos._exit(0)")
    gone = alpha.run(exited, "1") if first.status_code == 200 else first
    assert gone.status_code == 410
    assert alpha.run(exited, "1").status_code == 404


def test_other_endpoints_answer_while_16_sessions_run_a_busy_loop(svc):
    alpha = Caller(svc, ALPHA)
    sessions = [alpha.create() for _ in range(16)]
    answers: list[httpx.Response] = []
    busy = [threading.Thread(target=lambda s=s: answers.append(alpha.run(s, "while True: pass", timeout_s=15)))
            for s in sessions]
    for thread in busy:
        thread.start()
    time.sleep(1)  # let them start
    assert alpha.http.get("/healthz").status_code == 200
    item = {"completion": "<think>2+2</think> <answer>\\boxed{4}</answer>", "answer": "4"}
    scored = alpha.http.post("/score", json={"items": [item]})
    assert scored.status_code == 200 and scored.json()["results"][0]["reward"] == 2.0
    assert not answers, "the busy loops ended before the other endpoints answered"
    for thread in busy:
        thread.join()
    assert sorted(a.json()["status"] for a in answers) == ["TimeLimitExceeded"] * 16
    for session in sessions:
        alpha.value(session, "1")  # each goes on
        alpha.delete(session)


def test_bad_session_requests_are_4xx_naming_the_field(svc):
    alpha = Caller(svc, ALPHA)
    for body, field in (({"language": "javascript"}, "language"), ({"files": {"a.txt": "no base64!"}}, "files"),
                        ({"ttl_s": 0}, "ttl_s"), ({"limits": {"memory_mb": 1}}, "limits"), ({"tll_s": 5}, "tll_s")):
        answer = alpha.http.post("/sessions", json=body)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][1] == field, (body, answer.text)
    assert "python" in alpha.http.post("/sessions", json={"language": "cpp"}).json()["detail"][0]["msg"]
    session = alpha.create(ttl_s=10 ** 9)  # cut to REWARD_SESSION_MAX_TTL_S, not refused
    assert alpha.run(session, "1", timeout_s=-1).status_code == 422
    assert alpha.http.post(f"/sessions/{session}/run", json={"code": "1", "cod": 2}).status_code == 422
    outside = alpha.http.post(f"/sessions/{session}/files", json={"paths": ["../../etc/passwd"]})
    assert outside.status_code == 422 and outside.json()["detail"][0]["loc"][:2] == ["body", "paths"]
    assert alpha.value(session, "1 + 1") == "2"
    alpha.delete(session)


def test_caps_per_key_and_in_all_are_429_with_retry_after(small):
    alpha, beta, gamma = Caller(small, ALPHA), Caller(small, BETA), Caller(small, GAMMA)
    mine = [alpha.create(ttl_s=600), alpha.create(ttl_s=600)]
    third = alpha.http.post("/sessions", json={"ttl_s": 600})
    assert third.status_code == 429 and "REWARD_SESSIONS_PER_KEY" in third.json()["detail"]
    assert int(third.headers["Retry-After"]) >= 1
    theirs = beta.create(ttl_s=600)
    full = gamma.http.post("/sessions", json={})
    assert full.status_code == 429 and "REWARD_SESSIONS_MAX" in full.json()["detail"]
    assert int(full.headers["Retry-After"]) >= 1
    assert alpha.value(mine[0], "1") == "1"  # the sessions there go on
    alpha.delete(mine[0])
    again = gamma.create(ttl_s=600)
    for caller, session in ((alpha, mine[1]), (beta, theirs), (gamma, again)):
        assert caller.delete(session).status_code == 204


def test_an_idle_session_expires_410_once_then_404(small):
    alpha = Caller(small, ALPHA)
    session = alpha.create()  # REWARD_SESSION_TTL_S=1 here
    alpha.value(session, "x = 1")
    deadline = time.monotonic() + 60
    while alpha.live() and time.monotonic() < deadline:  # closed by the service itself, without a call
        time.sleep(0.2)
    assert alpha.live() == 0
    gone = alpha.run(session, "x")
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    assert alpha.run(session, "x").status_code == 404
