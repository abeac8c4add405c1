"""LLM judges against a small OpenAI-compatible server started here (the endpoint is a third party we cannot
reach; the client, the engine and the service are the real ones).

The server judges by rule, so that each test knows the right verdict: a student answer that spells "twelve"
for the reference 12 is equivalent; a rubric request is worth 7. Models script its failures.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from reward_service.engine import GradingEngine
from reward_service.llm_judge import parse_score, parse_yes_no
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.settings import Settings
from tests.conftest import free_port


class Judge(BaseHTTPRequestHandler):
    calls: list[dict] = []
    in_flight = peak = 0
    lock = threading.Lock()

    def log_message(self, *_):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model, prompt = body["model"], body["messages"][0]["content"]
        with Judge.lock:
            Judge.calls.append({"model": model, "prompt": prompt, "auth": self.headers.get("Authorization")})
            n = sum(c["model"] == model for c in Judge.calls)
            Judge.in_flight += 1
            Judge.peak = max(Judge.peak, Judge.in_flight)
        try:
            time.sleep(0.05 if model == "slow" else 0)
            if model == "flaky" and n == 1 or model == "down":
                return self._send(503, {"error": "busy"})
            if model == "needs-key" and self.headers.get("Authorization") != "Bearer sekrit":
                return self._send(401, {"error": "no key"})
            if model == "garbage" or model == "garbage-once" and n == 1:
                return self._reply("let me think about it")
            if "Score the response" in prompt:
                return self._reply('{"score": 7}')
            student = prompt.rsplit("Student's final answer:\n", 1)[1]
            return self._reply("Yes." if "twelve" in student.lower() else "no")
        finally:
            with Judge.lock:
                Judge.in_flight -= 1

    def _reply(self, content):
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def judge_url():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


@pytest.fixture
async def engine():
    Judge.calls.clear()
    Judge.peak = 0
    engine = GradingEngine(Settings(workers=1, sandbox_backend="none"))
    await engine.start()
    yield engine
    await engine.aclose()


def endpoint(url, model="judge", **more):
    return {"base_url": url, "model": model, "retries": 1, "timeout_s": 5, **more}


def fallback(url, model="judge", **more):
    return resolve({"components": {"accuracy": {"options": {"judge_fallback": endpoint(url, model, **more)}}}}, "")


def item(answer_text, reference="12", **more):
    return ScoreItem(completion=f"<think>hmm</think> <answer>{answer_text}</answer>", answer=reference,
                     prompt="How many eggs are in a dozen?", **more)


async def test_the_judge_decides_only_where_the_rules_could_not_read_the_answer(engine, judge_url):
    recipe = fallback(judge_url)
    spelled, wrong, right, unread = await engine.score(
        [item("twelve eggs, I think", id="spelled"), item("\\boxed{13}"), item("\\boxed{12}"),
         item("none of them, I think")], recipe)
    assert (spelled.reward, spelled.details["accuracy"]["decided_by"]) == (1.0, "judge")
    assert spelled.details["accuracy"]["rules_said"] == "no answer found"
    assert (wrong.reward, wrong.details["accuracy"]["decided_by"]) == (0.0, "rules")  # never overturned
    assert (right.reward, right.details["accuracy"]["decided_by"]) == (1.0, "rules")
    assert (unread.reward, unread.details["accuracy"]["decided_by"]) == (0.0, "judge")  # asked, said no
    assert len(Judge.calls) == 2 and "Reference answer:\n12" in Judge.calls[0]["prompt"]
    assert "How many eggs" in Judge.calls[0]["prompt"] and "<think>" not in Judge.calls[0]["prompt"]


async def test_an_unreadable_reference_goes_to_the_judge(engine, judge_url):
    [result] = await engine.score([item("twelve eggs, I think", reference="\\frac{}{}")], fallback(judge_url))
    assert result.status == "ok" and result.reward == 1.0 and result.error is None
    assert result.details["accuracy"]["rules_said"].startswith("unparseable reference")


async def test_answers_are_cached(engine, judge_url):
    recipe = fallback(judge_url)
    first = await engine.score([item("twelve eggs, I think", id=i, completion_tokens=i) for i in range(5)], recipe)
    assert [r.reward for r in first] == [1.0] * 5 and len(Judge.calls) == 1  # one question, asked once


@pytest.mark.parametrize(("model", "calls", "said"), [
    ("flaky", 2, None),                                  # a 503, then an answer: retried
    ("garbage-once", 2, None),                           # a reply that does not parse is asked once more
    ("garbage", 2, "the judge's replies did not parse"),
    ("down", 2, "unreachable after 2 attempts (HTTP 503)"),
    ("needs-key", 1, "the judge answered HTTP 401"),
])
async def test_a_judge_that_fails_makes_that_reward_null_and_the_batch_goes_on(engine, judge_url, model, calls, said):
    results = await engine.score([item("twelve eggs, I think"), item("\\boxed{12}")], fallback(judge_url, model))
    assert len(Judge.calls) == calls
    if said is None:
        assert results[0].reward == 1.0
    else:
        assert results[0].reward is None and results[0].status == "error" and said in results[0].error
    assert results[1].reward == 1.0  # decided by the rules: no judge needed


async def test_the_key_comes_from_the_named_environment_variable(engine, judge_url, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sekrit")
    [result] = await engine.score([item("twelve eggs, I think")], fallback(judge_url, "needs-key", api_key_env="JUDGE_KEY"))
    assert result.reward == 1.0 and Judge.calls[0]["auth"] == "Bearer sekrit"
    assert "sekrit" not in json.dumps(result.model_dump())


async def test_a_judge_down_altogether(engine):
    [result] = await engine.score([item("twelve eggs, I think")], fallback(f"http://127.0.0.1:{free_port()}/v1"))
    assert result.reward is None and "unreachable after 2 attempts (ConnectError" in result.error


async def test_the_rubric_component_and_its_scope(engine, judge_url):
    recipe = resolve({"components": {"accuracy": {}, "llm_judge": {"weight": 0.5, "options": endpoint(
        judge_url, criteria="Be concise.")}}}, "")
    [result] = await engine.score([item("\\boxed{12}")], recipe)
    assert result.components == {"accuracy": 1.0, "llm_judge": 0.7} and result.reward == pytest.approx(1.35)
    prompt = Judge.calls[0]["prompt"]
    assert "Criteria: Be concise." in prompt and "\\boxed{12}" in prompt and "hmm" not in prompt  # the answer only
    full = resolve({"components": {"llm_judge": {"options": endpoint(judge_url, scope="full")}}}, "")
    await engine.score([item("\\boxed{12}")], full)
    assert "<think>hmm</think>" in Judge.calls[-1]["prompt"]


async def test_concurrency_per_endpoint_is_limited(engine, judge_url):
    recipe = fallback(judge_url, "slow", max_concurrency=2)
    items = [item(f"twelve eggs, I think ({word})") for word in "one two three four five six seven eight".split()]
    results = await engine.score(items, recipe)
    assert [r.reward for r in results] == [1.0] * 8 and len(Judge.calls) == 8 and Judge.peak <= 2


def test_replies_are_parsed_strictly():
    assert [parse_yes_no(r) for r in ("yes", "Yes.", " NO ", "no!")] == [1.0, 1.0, 0.0, 0.0]
    assert parse_score('{"score": 10}') == 1.0 and parse_score(' {"score":3} ') == 0.3
    for bad in ("yes, probably", "maybe", ""):
        with pytest.raises(ValueError):
            parse_yes_no(bad)
    for bad in ('{"score": 11}', '{"score": 7.5}', "7", '{"score": 7, "why": "ok"}'):
        with pytest.raises(ValueError):
            parse_score(bad)


@pytest.mark.parametrize("options", [{"base_url": "127.0.0.1:8001", "model": "m"}, {"base_url": "http://x"}])
def test_a_bad_endpoint_is_refused_in_the_recipe(options):
    from reward_service.errors import UnknownRecipe
    with pytest.raises(UnknownRecipe):
        resolve({"components": {"accuracy": {"options": {"judge_fallback": options}}}}, "")


def test_through_the_service(service, judge_url):
    body = {"items": [item("twelve eggs, I think").model_dump(exclude_none=True), item("\\boxed{12}").model_dump(exclude_none=True)],
            "recipe": {"components": {"accuracy": {"options": {"judge_fallback": endpoint(judge_url)}}}}}
    r = httpx.post(service.url + "/score", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert [(x["reward"], x["details"]["accuracy"]["decided_by"]) for x in r.json()["results"]] == [
        (1.0, "judge"), (1.0, "rules")]
    assert re.search(r"Student's final answer:\ntwelve eggs", Judge.calls[-1]["prompt"])
