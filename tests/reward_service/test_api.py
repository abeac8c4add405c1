"""The embedded service over real HTTP on loopback (see the ``service`` fixture in tests/conftest.py)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Service

PATHOLOGICAL = Path(__file__).parent / "data" / "pathological.jsonl"

R1_ZERO_OK = "<think>2+2 is 4</think> <answer>\\boxed{4}</answer>"


def post(service, body, **kw):
    return httpx.post(service.url + "/score", json=body, timeout=kw.pop("timeout", 60), **kw)


def test_healthz(service):
    body = httpx.get(service.url + "/healthz").json()
    assert body["status"] == "ok" and body["queue"] == "embedded" and body["workers"] == 2


def test_readyz_says_the_sandbox_is_off(service):  # the fixture runs with REWARD_SANDBOX_BACKEND=none
    r = httpx.get(service.url + "/readyz")
    assert r.status_code == 200 and r.json() == {
        "status": "ready", "sandbox": "disabled",
        "sandbox_detail": "code grading is switched off (REWARD_SANDBOX_BACKEND=none)"}


def test_readyz_is_503_when_the_configured_sandbox_cannot_run():
    """Code items would all fail: a load balancer must not send them here."""
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "docker",
                   "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    try:
        svc.wait_ready()
        r = httpx.get(svc.url + "/readyz")
    finally:
        svc.stop()
    assert r.status_code == 503, r.text
    assert r.json()["sandbox"] == "unavailable" and "docker: engine not reachable" in r.json()["sandbox_detail"]


def test_docs_page_needs_no_internet(service):
    page = httpx.get(service.url + "/docs")
    assert page.status_code == 200 and "cdn." not in page.text and "/openapi.json" in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs-assets/{asset}" in page.text
        served = httpx.get(f"{service.url}/docs-assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000


def test_openapi_serves_the_contract(service):
    spec = httpx.get(service.url + "/openapi.json").json()
    assert {"/score", "/healthz", "/get_reward"} <= set(spec["paths"])
    assert {"ScoreItem", "ItemResult", "RecipeSpec"} <= set(spec["components"]["schemas"])


def test_scores_in_request_order_with_ids_and_components(service):
    items = [
        {"id": "right", "completion": R1_ZERO_OK, "answer": "4"},
        {"id": "wrong", "completion": "<think>hmm</think> <answer>\\boxed{5}</answer>", "answer": "4"},
        {"id": 7, "completion": "<think>x</think> the answer is \\boxed{4}", "answer": "4"},
        {"id": "chat", "completion": [{"role": "assistant", "content": R1_ZERO_OK}], "answer": 4},
    ]
    results = post(service, {"items": items, "recipe": "r1-zero"}).json()["results"]
    assert [r["id"] for r in results] == ["right", "wrong", 7, "chat"]
    assert results[0]["components"] == {"accuracy": 1.0, "format": 1.0} and results[0]["reward"] == 2.0
    assert results[1]["components"] == {"accuracy": 0.0, "format": 1.0}
    assert results[2]["components"]["accuracy"] == 1.0 and results[2]["components"]["format"] == 0.0
    assert results[3]["reward"] == 2.0
    assert all(r["status"] == "ok" and r["error"] is None for r in results)


def test_answer_in_reasoning_does_not_count(service):
    item = {"completion": "<think>It is \\boxed{4}.</think> <answer>I give up</answer>", "answer": "4"}
    [r] = post(service, {"items": [item], "recipe": "accuracy"}).json()["results"]
    assert r["status"] == "ok" and r["reward"] == 0.0


def test_bad_items_fail_alone_and_the_batch_answers(service):
    items = [
        {"id": 0, "completion": R1_ZERO_OK, "answer": "4"},
        {"id": 1, "completion": R1_ZERO_OK},                                   # no reference
        {"id": 2, "completion": R1_ZERO_OK, "answer": "\\frac{"},             # unparseable reference
        {"id": 3, "completion": "```python\nprint(1)\n```", "task": "code",   # no sandbox in this service
         "tests": {"inputs": [""], "outputs": ["1"]}, "language": "python"},
        {"id": 4, "completion": "x" * 400_001, "answer": "1"},                 # over the completion limit
    ]
    results = post(service, {"items": items}).json()["results"]
    assert results[0]["status"] == "ok" and results[0]["reward"] == 2.0
    for r in results[1:]:
        assert r["reward"] is None and r["status"] in ("invalid", "error") and r["error"], r
    assert results[1]["status"] == "invalid" and "no reference" in results[1]["error"]
    assert results[2]["status"] == "invalid"
    assert results[4]["status"] == "invalid" and "longer than" in results[4]["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({"items": [{"completion": "x", "task": "chess"}]}, "task"),
    ({"items": [{"completion": "x"}], "recipe": "no-such"}, "recipe"),
    ({"items": [{"completion": "x", "anwser": 1}]}, "did you mean 'answer'"),  # a typo, not a data set's field
    ({"items": [{"completion": "x", "test": []}]}, "did you mean 'tests'"),
    ({"items": [{"completion": "x", "test": "assert f(1) == 1"}]}, "'test' and 'entry_point' go together"),
    ({"items": [{"completion": "x", "test": "assert f(1)", "entry_point": "f", "tests": {"inputs": [], "outputs": []}}]},
     "not both"),
    ({"items": [{"answer": "1"}]}, "completion"),
    ({"items": [{"completion": "x"}], "recipe": {"components": {"format": {"options": {"mode": "xml"}}}}}, "mode"),
])
def test_malformed_requests_are_422_naming_the_field(service, body, field):
    response = post(service, body)
    assert response.status_code == 422
    said = [".".join(map(str, d["loc"])) + " " + d["msg"] for d in response.json()["detail"]]
    assert any(field in line for line in said), said


def test_an_eval_file_row_posts_as_is(service):
    """The fields a data set carries beside ours are ignored (not echoed: results stay small)."""
    row = {"id": "q1", "prompt_id": "p7", "level": "Level 5", "idx": 12, "extra_info": {"split": "test"},
           "data_source": "math500", "answer": "4", "completion": R1_ZERO_OK, "source": "math500"}
    response = post(service, {"items": [row], "recipe": "r1-zero"})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["id"], result["status"], result["reward"]) == ("q1", "ok", 2.0)
    assert "prompt_id" not in result and "level" not in result


def test_a_humaneval_row_is_a_code_item_with_its_prompt_as_the_problems_code():
    from reward_service.schemas import ScoreItem
    row = {"task_id": "HumanEval/53", "prompt": 'def add(x, y):\n    """Add."""\n', "entry_point": "add",
           "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n", "completion": "    return x + y\n"}
    item = ScoreItem.model_validate(row)
    assert item.task == "code" and item.test is None and item.entry_point is None
    assert item.tests == {"test": row["test"], "entry_point": "add", "prompt": row["prompt"]}
    assert ScoreItem.model_validate(item.model_dump(mode="json")) == item  # it round-trips to the graders
    mbpp = ScoreItem.model_validate({**row, "prompt": "Write a function that adds two numbers."})
    assert "prompt" not in mbpp.tests  # prose is not the problem's code
    assert ScoreItem.model_validate({**row, "task": "none"}).task == "none"  # a task given is kept


def test_not_json_is_422(service):
    response = httpx.post(service.url + "/score", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_too_many_items_is_413(service):
    response = post(service, {"items": [{"completion": "x", "task": "none"}] * 301, "recipe": "r1-zero"})
    assert response.status_code == 413 and "300" in response.json()["detail"]


def test_too_large_body_is_413_declared_or_streamed(service):
    big = {"items": [{"completion": "y" * (3 * 1024 * 1024), "task": "none"}]}
    assert post(service, big).status_code == 413

    def chunks():
        blob = json.dumps(big).encode()
        for i in range(0, len(blob), 65536):
            yield blob[i:i + 65536]
    response = httpx.post(service.url + "/score", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_repeat_is_answered_from_cache_with_its_own_id(service):
    item = {"completion": "<think>a</think> <answer>\\frac{1}{3}</answer>", "answer": "1/3"}
    first = post(service, {"items": [{**item, "id": "a"}]}).json()["results"][0]
    again = post(service, {"items": [{**item, "id": "b"}]}).json()["results"][0]
    assert again["id"] == "b" and again["details"].get("cached") is True
    assert again["reward"] == first["reward"] == 2.0


def test_group_with_one_answer_grades_accuracy_once(service):
    # Eight different completions with the same final answer: accuracy is computed once, reused seven times.
    items = [{"completion": f"<think>try {i}</think> <answer>\\sqrt{{2}}/2</answer>",
              "answer": "\\frac{\\sqrt{2}}{2}"} for i in range(8)]
    results = post(service, {"items": items}).json()["results"]
    assert all(r["reward"] == 2.0 for r in results)
    assert sum(r["details"]["timings"]["accuracy_cached"] for r in results) == 7


def test_length_shaping_and_task_none(service):
    recipe = {"components": {"format": {"options": {"mode": "r1"}},
                             "overlong": {"options": {"max_length": 100, "cache_length": 40}}}}
    items = [{"completion": "<think>a</think> b", "task": "none", "completion_tokens": n} for n in (50, 80, 200)]
    results = post(service, {"items": items, "recipe": recipe}).json()["results"]
    assert [r["components"]["overlong"] for r in results] == [0.0, -0.5, -1.0]
    assert [r["reward"] for r in results] == [1.0, 0.5, 0.0]
    assert all("accuracy" not in r["components"] for r in results)


def test_openrlhf_get_reward(service):
    body = {"query": ["Q: 2+2?<think>ok</think> <answer>4</answer>", "Q: 2+2?<think>ok</think> <answer>5</answer>",
                      "no label"], "prompts": ["Q: 2+2?", "Q: 2+2?", ""], "labels": ["4", "4", None]}
    out = httpx.post(service.url + "/get_reward", json=body, timeout=60).json()
    assert out["rewards"] == [2.0, 1.0, 0.0] and out["scores"] == out["rewards"]
    assert out["extra_logs"]["scored"] == [1.0, 1.0, 0.0] and out["extra_logs"]["accuracy"][:2] == [1.0, 0.0]


def test_openrlhf_mismatched_lengths_are_422(service):
    response = httpx.post(service.url + "/get_reward", json={"query": ["a", "b"], "labels": ["1"]})
    assert response.status_code == 422


@pytest.mark.slow
def test_hung_grader_times_out_while_service_keeps_serving(service):
    cases = [json.loads(line) for line in PATHOLOGICAL.read_text().splitlines() if line.strip()]
    items = [{"id": i, "completion": f"<think>x</think> <answer>{c['region']}</answer>", "answer": c["reference"]}
             for i, c in enumerate(cases[:2])]
    answers: dict[str, object] = {}

    def slow_batch():
        started = time.monotonic()
        answers["results"] = post(service, {"items": items, "recipe": "accuracy"}).json()["results"]
        answers["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=slow_batch)
    thread.start()
    time.sleep(0.5)
    # Both graders are stuck; a new request still gets its answer once they are killed and replaced.
    quick = post(service, {"items": [{"completion": R1_ZERO_OK, "answer": "4"}]}).json()["results"][0]
    thread.join(timeout=60)
    assert quick["reward"] == 2.0
    assert [r["status"] for r in answers["results"]] == ["timeout"] * len(items)
    assert all(r["reward"] is None and "exceeded 3 s" in r["error"] for r in answers["results"])
    assert answers["elapsed"] < 30  # killed at the limit, not left to run (how close is measured in bench/)


def test_recipe_accuracy_options_reach_the_math_grader(service):
    item = {"completion": "\\boxed{y+1}", "answer": "x+1"}
    strict = post(service, {"items": [item], "recipe": "accuracy"}).json()["results"][0]
    loose = post(service, {"items": [item], "recipe": {"components": {
        "accuracy": {"options": {"strict": False}}}}}).json()["results"][0]
    assert (strict["reward"], loose["reward"]) == (0.0, 1.0)


def raw_post(service, body: dict, **kw) -> httpx.Response:
    """POST ``body`` as JSON with every non-ASCII character escaped: a lone surrogate travels as ``\\udc80``,
    which is valid JSON (a client that decodes bytes with errors="surrogateescape" sends exactly this)."""
    return httpx.post(service.url + "/score", content=json.dumps(body).encode(),
                      headers={"content-type": "application/json"}, timeout=60, **kw)


def test_a_lone_surrogate_fails_its_item_alone_and_the_batch_answers(service):
    bad = "\udc80"
    items = [
        {"id": "good", "completion": R1_ZERO_OK, "answer": "4"},
        {"id": "completion", "completion": f"<think>a{bad}</think> <answer>\\boxed{{4}}</answer>", "answer": "4"},
        {"id": "answer", "completion": R1_ZERO_OK, "answer": f"4{bad}"},
        {"id": "prompt", "prompt": f"Q{bad}", "completion": R1_ZERO_OK, "answer": "4"},
        {"id": "chat", "completion": [{"role": "assistant", "content": f"{R1_ZERO_OK}{bad}"}], "answer": "4"},
        {"id": f"id{bad}", "completion": R1_ZERO_OK, "answer": "4"},
    ]
    response = raw_post(service, {"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["status"] == "ok" and results[0]["reward"] == 2.0
    assert [r["id"] for r in results[:5]] == ["good", "completion", "answer", "prompt", "chat"]
    assert results[5]["id"] == "id\ufffd"  # echoed as valid Unicode
    for r in results[1:]:
        assert r["status"] == "invalid" and r["reward"] is None and "surrogate" in r["error"], r
    # Also where the request is refused: the 422 that names the field must not trip over the value.
    response = raw_post(service, {"items": [{"completion": bad, "task": f"x{bad}"}]})
    assert response.status_code == 422


@pytest.fixture(scope="module")
def big_batch_service():
    """A service that takes the default 8,192 items per request."""
    from tests.conftest import Service
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_LOG_LEVEL": "warning"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


@pytest.mark.slow
def test_healthz_answers_while_a_large_batch_is_prepared(big_batch_service):
    """8,192 items answered from the result cache: all of the work is hashing, extracting and serialising,
    none of it waits on a grader, so only moving it off the event loop lets /healthz answer meanwhile."""
    svc = big_batch_service
    item = {"completion": R1_ZERO_OK, "answer": "4", "task": "math"}
    assert post(svc, {"items": [item]}).status_code == 200  # now in the result cache
    body = json.dumps({"items": [{**item, "id": i} for i in range(8192)]}).encode()
    sent = threading.Event()
    answers: list[tuple[float, float]] = []  # (sent at, answered at) of each /healthz after the upload
    scored: dict[str, float] = {}

    def upload():
        for i in range(0, len(body), 1 << 20):
            yield body[i:i + (1 << 20)]
        sent.set()

    def score():
        r = httpx.post(svc.url + "/score", content=upload(), headers={"content-type": "application/json"},
                       timeout=120)
        scored["at"] = time.monotonic()
        scored["status"] = r.status_code

    thread = threading.Thread(target=score)
    thread.start()
    sent.wait(60)
    with httpx.Client(base_url=svc.url, timeout=30) as client:
        while "at" not in scored:
            asked = time.monotonic()
            assert client.get("/healthz").status_code == 200
            answers.append((asked, time.monotonic()))
            time.sleep(0.005)
    thread.join()
    assert scored["status"] == 200
    during = [(a, b) for a, b in answers if b < scored["at"]]
    worst = max(b - a for a, b in answers)
    print(f"/healthz during an 8,192-item batch: {len(during)} answered before it, slowest {worst * 1000:.0f} ms")
    assert len(during) >= 5, (len(during), worst)
