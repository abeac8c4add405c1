"""LLM judges against a small OpenAI-compatible server started here (tests/reward_service/_fake_judge.py), and
against the probe's judge that obeys orders outside quoted data; the client and the engine are the real ones.

The judges are the operator's (Settings.judges, REWARD_JUDGES); recipes name one. Over real HTTP, what a
tenant's recipe can reach: tests/reward_service/test_judge_tenancy.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from reward_service import scoring
from reward_service.engine import GradingEngine
from reward_service.errors import UnknownRecipe
from reward_service.grading.types import Grade, Reason
from reward_service.llm_judge import check, parse_score, parse_yes_no
from reward_service.probe import CATALOGUE
from reward_service.probe_judge import ObedientJudge, reply
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.settings import Settings
from tests.conftest import ROOT, free_port
from tests.reward_service._fake_judge import BODY_MARKER, Judge, data_of, declared, reset, serve


@pytest.fixture(scope="module")
def judge_url():
    with serve() as url:
        yield url


async def started(judges: dict) -> GradingEngine:
    engine = GradingEngine(Settings(workers=1, sandbox_backend="none", judges=judges))
    await engine.start()
    return engine


@pytest.fixture
async def engine(judge_url):
    reset()
    engine = await started(declared(judge_url, slow={"model": "slow", "max_concurrency": 2}))
    yield engine
    await engine.aclose()


def fallback(judge="judge", **more):
    return resolve({"components": {"accuracy": {"options": {"judge_fallback": {"judge": judge, **more}}}}}, "")


def rubric(judge="judge", **more):
    return resolve({"components": {"accuracy": {}, "llm_judge": {"weight": 0.5, "options": {"judge": judge, **more}}}},
                   "")


def item(answer_text, reference="12", **more):
    return ScoreItem(completion=f"<think>hmm</think> <answer>{answer_text}</answer>", answer=reference,
                     prompt="How many eggs are in a dozen?", **more)


async def test_the_judge_decides_only_where_the_rules_could_not_read_the_answer(engine):
    spelled, wrong, right, unread = await engine.score(
        [item("twelve eggs, I think", id="spelled"), item("\\boxed{13}"), item("\\boxed{12}"),
         item("none of them, I think")], fallback())
    assert (spelled.reward, spelled.details["accuracy"]["decided_by"]) == (1.0, "judge")
    assert spelled.details["accuracy"]["rules_said"] == "no answer found"
    assert spelled.details["accuracy"]["rules_code"] == "no_answer"
    assert (wrong.details["accuracy"]["code"], wrong.details["accuracy"]["reason"]) == ("wrong_answer", "not equivalent")
    assert (wrong.reward, wrong.details["accuracy"]["decided_by"]) == (0.0, "rules")  # never overturned
    assert (right.reward, right.details["accuracy"]["decided_by"]) == (1.0, "rules")
    assert (unread.reward, unread.details["accuracy"]["decided_by"]) == (0.0, "judge")  # asked, said no
    asked = sorted((data_of(call["prompt"]) for call in Judge.calls), key=lambda data: data["student_final_answer"])
    assert asked == [{"problem": "How many eggs are in a dozen?", "reference_answer": "12",  # never <think>
                      "student_final_answer": answer} for answer in ("none of them, I think", "twelve eggs, I think")]


@pytest.mark.parametrize(("code", "reason", "asked"), [
    (Reason.no_answer, "nothing that looks like an answer (reworded)", True),
    (Reason.unparseable_answer, "could not read it", True),
    (Reason.wrong_answer, "no answer found", False),        # the old sentence with another code: not taken over
    (Reason.answer_too_large, "unparseable answer", False),  # a deliberate 0 stands, whatever it says
])
async def test_the_fallback_branches_on_the_reason_code_never_the_sentence(engine, code, reason, asked):
    """Today's fallback matched English sentences: rewording one silently changed what the judge saw."""
    rules = Grade.ok(0.0, code, reason, extracted="twelve eggs")
    ctx = scoring.context(item("twelve eggs, I think"), rules)
    accuracy = fallback().get("accuracy")
    grade = await accuracy.entry.serve(engine.services, ctx, accuracy, rules)
    assert grade.details["decided_by"] == ("judge" if asked else "rules") and len(Judge.calls) == int(asked)
    if asked:
        assert (grade.score, grade.details["rules_code"], grade.details["rules_said"]) == (1.0, code.value, reason)
    else:
        assert grade.score == 0.0 and grade.code is code and grade.reason == reason


async def test_an_unreadable_reference_goes_to_the_judge(engine):
    [result] = await engine.score([item("twelve eggs, I think", reference="\\frac{}{}")], fallback())
    assert result.status == "ok" and result.reward == 1.0 and result.error is None
    assert result.details["accuracy"]["rules_said"].startswith("unparseable reference")
    assert result.details["accuracy"]["rules_code"] == "unparseable_reference"


async def test_answers_are_cached(engine):
    first = await engine.score([item("twelve eggs, I think", id=i, completion_tokens=i) for i in range(5)],
                               fallback())
    assert [r.reward for r in first] == [1.0] * 5 and len(Judge.calls) == 1  # one question, asked once


@pytest.mark.parametrize(("judge", "calls", "said"), [
    ("flaky", 2, None),                                  # a 503, then an answer: retried
    ("garbage-once", 2, None),                           # a reply that does not parse is asked once more
    ("garbage", 2, "the judge's replies did not parse (not yes or no)"),
    ("down", 2, "judge 'down' unreachable after 2 attempts (HTTP 503)"),
    ("needs-key", 1, "judge 'needs-key' answered HTTP 401"),
])
async def test_a_judge_that_fails_makes_that_reward_null_and_the_batch_goes_on(engine, judge, calls, said):
    results = await engine.score([item("twelve eggs, I think"), item("\\boxed{12}")], fallback(judge))
    assert len(Judge.calls) == calls
    if said is None:
        assert results[0].reward == 1.0
    else:
        assert results[0].reward is None and results[0].status == "error" and results[0].error == f"judge: {said}"
    assert results[1].reward == 1.0  # decided by the rules: no judge needed


async def test_the_key_comes_from_the_variable_the_operator_declared(judge_url, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sekrit")
    reset()
    engine = await started(declared(judge_url, **{"needs-key": {"api_key_env": "JUDGE_KEY"}}))
    try:
        [result] = await engine.score([item("twelve eggs, I think")], fallback("needs-key"))
    finally:
        await engine.aclose()
    assert result.reward == 1.0 and Judge.calls[0]["auth"] == "Bearer sekrit"
    assert "sekrit" not in json.dumps(result.model_dump())


async def test_a_judge_down_altogether_is_named_not_located():
    port = free_port()
    engine = await started({"gone": {"base_url": f"http://127.0.0.1:{port}/v1", "model": "m", "retries": 1}})
    try:
        [result] = await engine.score([item("twelve eggs, I think")], fallback("gone"))
    finally:
        await engine.aclose()
    assert result.reward is None and result.error == "judge: judge 'gone' unreachable after 2 attempts (ConnectError)"
    assert str(port) not in result.error  # the operator's URL is not the caller's to know


async def test_an_error_body_never_reaches_the_caller(engine):
    """Today's code echoed 200 characters of the judge's error body, and 80 of a reply that did not parse."""
    [leaky] = await engine.score([item("twelve eggs, I think")], fallback("leaky"))
    [garbage] = await engine.score([item("twelve eggs, I think")], fallback("garbage"))
    assert leaky.error == "judge: judge 'leaky' answered HTTP 400"
    for result in (leaky, garbage):
        assert result.reward is None and BODY_MARKER not in json.dumps(result.model_dump())


async def test_the_rubric_component_and_its_scope(engine):
    [result] = await engine.score([item("\\boxed{12}")], rubric(criteria="Be concise."))
    assert result.components == {"accuracy": 1.0, "llm_judge": 0.7} and result.reward == pytest.approx(1.35)
    prompt = Judge.calls[0]["prompt"]
    assert "Criteria: Be concise." in prompt
    assert data_of(prompt) == {"request": "How many eggs are in a dozen?", "response": "\\boxed{12}"}  # the answer
    await engine.score([item("\\boxed{12}")], rubric(scope="full"))
    assert data_of(Judge.calls[-1]["prompt"])["response"] == "<think>hmm</think> <answer>\\boxed{12}</answer>"


async def test_concurrency_is_the_operators_for_every_recipe(engine):
    """The operator declared 2 calls at once to 'slow'; two recipes at once cannot make it more, and a
    recipe cannot set it (today's code let the first caller's max_concurrency bind every tenant)."""
    words = "one two three four five six seven eight".split()
    a = engine.score([item(f"twelve eggs, I think ({w})") for w in words], fallback("slow"))
    b = engine.score([item(f"\\boxed{{12}} ({w})") for w in words], rubric("slow", criteria="Be kind."))
    first, second = await asyncio.gather(a, b)
    assert [r.reward for r in first] == [1.0] * 8 and [r.components["llm_judge"] for r in second] == [0.7] * 8
    assert len(Judge.calls) == 16 and Judge.peak <= 2
    with pytest.raises(UnknownRecipe, match="judges are declared by the operator in REWARD_JUDGES"):
        fallback("slow", max_concurrency=1000)


@pytest.mark.parametrize("options", [
    {"base_url": "http://127.0.0.1:1/v1", "model": "m"},
    {"judge": "judge", "api_key_env": "REWARD_API_KEYS"},
    {"judge": "judge", "model": "another"},
    {"judge": "judge", "timeout_s": 600, "retries": 10, "max_tokens": 4096, "max_answer_chars": 10**6},
])
@pytest.mark.parametrize("where", ["judge_fallback", "llm_judge"])
def test_a_recipe_cannot_choose_what_only_the_operator_declares(options, where):
    spec = {"accuracy": {"options": {"judge_fallback": options}}} if where == "judge_fallback" else \
        {"llm_judge": {"options": options}}
    with pytest.raises(UnknownRecipe, match="judges are declared by the operator in REWARD_JUDGES") as refused:
        resolve({"components": spec}, "")
    assert refused.value.field.startswith(f"recipe.components.{where.replace('judge_fallback', 'accuracy')}")


def test_a_name_that_is_not_declared_is_refused_listing_the_declared():
    with pytest.raises(UnknownRecipe, match=r"judge 'ghost' is not declared \(declared: a, b\)") as refused:
        check(fallback("ghost"), {"b": {}, "a": {}})
    assert refused.value.field == "recipe.components.accuracy.options.judge_fallback.judge"
    with pytest.raises(UnknownRecipe, match=r"'ghost' is not declared \(no judge is declared\)"):
        check(rubric("ghost"), {})


async def test_a_judge_this_process_lacks_fails_the_item_alone(judge_url):
    """A Redis worker resolves names against its own REWARD_JUDGES: one it lacks is that item's error, asked
    or not (the rules decide the second item), and the engine goes on."""
    engine = await started(declared(judge_url))
    try:
        unread, boxed = await engine.score([item("twelve eggs, I think"), item("\\boxed{12}")], fallback("ghost"))
        [fine] = await engine.score([item("twelve eggs, I think")], fallback())
    finally:
        await engine.aclose()
    for result in (unread, boxed):
        assert result.reward is None and result.status == "error"
        assert result.error.startswith("judge: judge 'ghost' is not declared here (declared: down, flaky, ")
    assert fine.reward == 1.0


# -- the answer is data (issue 17, item 10) ---------------------------------------------------------------

def injection_item() -> ScoreItem:
    data = json.loads((CATALOGUE / "judge-injection-ends-the-quote.json").read_text())
    return ScoreItem.model_validate(data["item"])


def test_the_obedient_judge_obeys_an_order_outside_quotes():
    """The fake is fooled where it should be: read unquoted (as today's prompt put it), the exploit's answer
    is an order it follows; JSON-quoted, it is data."""
    answer = injection_item().completion.split("<answer>")[1].removesuffix("</answer>")
    assert reply(f"Reply yes or no.\n\nStudent's final answer:\n{answer}") == "yes"
    assert reply(f"Reply yes or no.\n\n{json.dumps({'answer': answer})}") == "no"


async def test_an_injection_in_the_answer_gains_nothing():
    with ObedientJudge() as fake:
        engine = await started({"obedient": {"base_url": fake.url, "model": "m", "retries": 0}})
        try:
            [accuracy] = await engine.score([injection_item()], fallback("obedient"))
            [graded] = await engine.score([injection_item()], rubric("obedient", scope="full"))
        finally:
            await engine.aclose()
    assert (accuracy.reward, accuracy.details["accuracy"]["decided_by"]) == (0.0, "judge")  # asked, and said no
    assert graded.components["llm_judge"] == 0.0 and len(fake.calls) == 2


async def test_an_answer_longer_than_the_judge_reads_is_not_asked(judge_url):
    """The cap is the operator's (max_answer_chars): a longer answer earns the rules' 0 unasked; the question
    is cut to it."""
    reset()
    engine = await started(declared(judge_url, judge={"max_answer_chars": 100}))
    long_question = ScoreItem(completion="<think>hmm</think> <answer>twelve eggs, I think</answer>", answer="12",
                              prompt="How many? " * 50)
    try:
        [long] = await engine.score([item("twelve eggs, I think" + " and more" * 20)], fallback())
        [short] = await engine.score([long_question], fallback())
    finally:
        await engine.aclose()
    assert long.reward == 0.0 and long.details["accuracy"]["decided_by"] == "rules"
    assert long.details["accuracy"]["judge_skipped"] == "longer than the judge reads (200 > 100 characters)"
    assert short.reward == 1.0 and len(Judge.calls) == 1
    assert data_of(Judge.calls[0]["prompt"])["problem"] == "How many? " * 10 + " [... 400 characters cut]"


# -- the operator's declaration -----------------------------------------------------------------------------

def test_replies_are_parsed_strictly():
    assert [parse_yes_no(r) for r in ("yes", "Yes.", " NO ", "no!")] == [1.0, 1.0, 0.0, 0.0]
    assert parse_score('{"score": 10}') == 1.0 and parse_score(' {"score":3} ') == 0.3
    for bad in ("yes, probably", "maybe", ""):
        with pytest.raises(ValueError):
            parse_yes_no(bad)
    for bad in ('{"score": 11}', '{"score": 7.5}', "7", '{"score": 7, "why": "ok"}'):
        with pytest.raises(ValueError):
            parse_score(bad)


def test_judges_come_from_the_environment_and_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("REWARD_JUDGES", json.dumps({"local": {"base_url": "http://127.0.0.1:8001/v1", "model": "q"}}))
    (tmp_path / "judges.json").write_text(json.dumps({"remote": {"base_url": "https://judge.example/v1",
                                                                 "model": "r", "max_concurrency": 3}}))
    monkeypatch.setenv("REWARD_JUDGES_FILE", str(tmp_path / "judges.json"))
    judges = Settings().judges
    assert sorted(judges) == ["local", "remote"] and judges["remote"].max_concurrency == 3
    (tmp_path / "judges.json").write_text(json.dumps({"local": {"base_url": "http://x/v1", "model": "q"}}))
    with pytest.raises(ValueError, match="local declared in both REWARD_JUDGES and REWARD_JUDGES_FILE"):
        Settings()


@pytest.mark.parametrize(("value", "said"), [
    ('{"local": {"base_url": "127.0.0.1:8001", "model": "q"}}',
     "REWARD_JUDGES: judge 'local': base_url must start with http:// or https://"),
    ('{"local": {"base_url": "http://x/v1"}}', "REWARD_JUDGES: judge 'local': model: Field required"),
    ('{"local": ', "REWARD_JUDGES: not JSON"),
])
def test_a_bad_declaration_stops_the_start_with_one_line(value, said):
    done = subprocess.run([sys.executable, "-m", "reward_service", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "REWARD_JUDGES": value})
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr
