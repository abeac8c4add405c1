"""The python tool of GRPO rollouts (trainer/tools.py) against a real service with a real sandbox, and the tiny
model's tool-calling templates as TRL reads them; the end-to-end run (SFT, then GRPO with the tool) is slow."""

from __future__ import annotations

import inspect
import json
import logging
import re
import shutil
from pathlib import Path

import httpx
import pytest

from reward_service.client import RewardClient, RewardServiceError
from reward_service.schemas import tool_output_text
from tests.conftest import need
from tests.trainer.conftest import start_service
from trainer.config import ToolsConfig, load_config
from trainer.tools import SandboxFactory

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "trainer" / "configs"


@pytest.fixture(scope="module")
def sandbox_service():
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = start_service(REWARD_SANDBOX_BACKEND="auto")
    try:
        yield svc
    finally:
        svc.stop()


def session_counts(url: str) -> dict[str, int]:
    """From the service's /metrics: sessions open now, sessions opened, session runs answered."""
    text = httpx.get(url + "/metrics", timeout=10).text

    def total(pattern: str) -> int:
        return int(sum(float(v) for v in re.findall(pattern, text, re.M)))
    return {"live": total(r"^reward_sessions_live (\S+)$"),
            "opened": total(r'^reward_request_seconds_count\{method="POST",route="/sessions",status="201"\} (\S+)$'),
            "runs": total(r'^reward_request_seconds_count\{method="POST",route="/sessions/\{session_id\}/run",'
                          r'status="200"\} (\S+)$')}


@pytest.fixture
def factory(sandbox_service):
    made = SandboxFactory(RewardClient(sandbox_service.url, retries=1, backoff=0.05), ToolsConfig(timeout_s=5))
    yield made
    made.close_sessions()
    made.client.close()


def tools_of(env: object) -> list[str]:
    """The methods TRL offers the policy as tools (its rule: public functions of the class but reset)."""
    return [name for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


# -- the tool ---------------------------------------------------------------------------------------------

def test_trl_sees_one_python_tool_with_a_schema(factory):
    from transformers.utils import get_json_schema
    env = factory()
    assert tools_of(env) == ["python"]
    schema = get_json_schema(env.python)["function"]
    assert schema["name"] == "python" and "persist" in schema["description"]
    assert schema["parameters"]["properties"]["code"]["type"] == "string"
    assert schema["parameters"]["required"] == ["code"]


def test_state_persists_within_a_rollout_and_nothing_crosses_a_reset(factory, sandbox_service):
    env = factory()
    env.reset(prompt="q1")
    assert env.python("x = 41\n_ = open('notes.txt', 'w').write('kept')") == "(no output)"
    assert env.python("print(x + 1)\nopen('notes.txt').read()") == "42\n'kept'"
    first = env._session
    env.reset(prompt="q2")  # the next rollout: a session of its own, the last one's closed
    assert "NameError" in env.python("x")
    assert env._session != first
    factory.close_sessions()
    with pytest.raises(RewardServiceError) as gone:
        factory.client.run_in_session(first, "1")
    assert gone.value.status_code in (404, 410)
    assert factory.stats.calls == 3 and factory.stats.sessions == 2 and factory.stats.failures == 0


def test_sessions_open_ahead_at_reset_and_unused_ones_close(factory, sandbox_service):
    """TRL calls tools one rollout after another: the sandbox starts while the policy generates."""
    before = session_counts(sandbox_service.url)
    env = factory()
    env.reset()
    env._opening.result()
    assert session_counts(sandbox_service.url)["live"] == before["live"] + 1  # open before any call
    assert env.python("print(7)") == "7"
    env.reset()
    env.reset()  # that rollout never called the tool
    factory.close_sessions()
    after = session_counts(sandbox_service.url)
    assert (after["opened"] - before["opened"], factory.stats.sessions) == (3, 1)
    assert after["live"] == before["live"]


def test_without_open_ahead_a_session_opens_on_the_first_call(sandbox_service):
    factory = SandboxFactory(RewardClient(sandbox_service.url), ToolsConfig(open_ahead=False))
    before = session_counts(sandbox_service.url)["opened"]
    env = factory()
    env.reset()
    env.reset()
    assert session_counts(sandbox_service.url)["opened"] == before
    assert env.python("2 ** 10") == "1024"
    factory.close_sessions()
    assert session_counts(sandbox_service.url)["opened"] == before + 1


def test_program_errors_are_the_result_the_policy_reads(factory):
    env = factory()
    result = env.python("def f():\n    return 1 / 0\nf()")
    assert "ZeroDivisionError" in result and "Traceback" in result
    assert factory.stats.failures == 0  # the program failed, not the sandbox


def test_a_session_that_ended_is_said_and_the_next_call_starts_afresh(factory):
    env = factory()
    env.python("y = 1")
    factory.client.delete_session(env._session)  # ended behind the tool's back (expiry, a crash)
    assert "session ended" in env.python("y")
    assert env.python("print(2)") == "2"  # a new session
    assert factory.stats.sessions == 2


def test_the_end_of_training_closes_every_open_session(factory, sandbox_service):
    from trainer.tools import CloseSandboxes
    envs = [factory() for _ in range(3)]
    before = session_counts(sandbox_service.url)["live"]
    for env in envs:
        env.python("1")
    assert session_counts(sandbox_service.url)["live"] == before + 3
    CloseSandboxes(factory).on_train_end(None, None, None)
    assert session_counts(sandbox_service.url)["live"] == before


def test_sandbox_unreachable_is_a_tool_result_and_one_error_line(caplog):
    caplog.set_level(logging.ERROR, logger="trainer.tools")
    factory = SandboxFactory(RewardClient("http://127.0.0.1:9", retries=0), ToolsConfig())
    env = factory()
    answers = [env.python("1 + 1") for _ in range(3)]
    assert all(a.startswith("error: the sandbox is unavailable") for a in answers)
    assert factory.stats.failures == 3
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["SANDBOX UNAVAILABLE for the python tool"]
    env.reset()  # nothing to close; opening ahead fails in the background: never raises
    assert env.python("1").startswith("error: the sandbox is unavailable")
    factory.close_sessions()


def test_a_service_without_a_sandbox_fails_the_preflight_in_one_line(tmp_path):
    from trainer.grpo import check_sessions
    svc = start_service()  # REWARD_SANDBOX_BACKEND=none
    try:
        cfg = load_config(CONFIGS / "tiny-tool.yaml", [f"service.url={svc.url}"])
        with pytest.raises(SystemExit) as exit_:
            check_sessions(cfg)
        assert "cannot open a Python session" in str(exit_.value) and "503" in str(exit_.value)
        env = SandboxFactory(RewardClient(svc.url, retries=0), ToolsConfig())()
        assert env.python("1").startswith("error: the sandbox is unavailable (503")
    finally:
        svc.stop()


@pytest.mark.parametrize(("result", "text"), [
    ({"status": "Finished", "stdout": "3\n", "display": [{"text/plain": "4"}]}, "3\n4"),
    ({"status": "Finished", "stdout": "", "display": []}, "(no output)"),
    ({"status": "Error", "stdout": "a\n", "stderr": "Traceback ...\nNameError: x\n", "error": "NameError: x"},
     "a\nTraceback ...\nNameError: x"),
    ({"status": "Error", "stdout": "", "stderr": "", "error": "MemoryError"}, "MemoryError"),
    ({"status": "TimeLimitExceeded", "stdout": "", "execution_time": 5.02},
     "TimeoutError: the code ran past 5 s and was stopped"),
    ({"status": "Finished", "stdout": "x" * 80}, "x" * 60 + "\n[output cut: 20 more characters]"),
    ({"status": "Finished", "stdout": "x", "truncated": True}, "x\n[the sandbox cut the output at its bound]"),
])
def test_tool_output_text(result, text):
    assert tool_output_text(result, max_chars=60) == text


def test_tools_section_of_the_run_config():
    cfg = load_config(CONFIGS / "tiny-tool.yaml")
    assert cfg.tools == ToolsConfig(timeout_s=5, session={"ttl_s": 120})
    assert load_config(None, ["model=tiny", "tools={}"]).tools == ToolsConfig()
    assert load_config(None, ["model=tiny"]).tools is None
    with pytest.raises(ValueError, match="unknown key.*in tools: timeout"):
        load_config(None, ["model=tiny", "tools.timeout=3"])


def test_prompts_become_chat_messages_for_tools():
    """TRL runs tools only for chat prompts; a chat question (kept as JSON by prepare) stays one."""
    import datasets

    from trainer.tools import conversational
    chat = [{"role": "user", "content": "hi"}]
    rows = datasets.Dataset.from_list([{"question": "what is 1 + 2 ?"}, {"question": json.dumps(chat)},
                                       {"question": "[not json"}])
    system = {"role": "system", "content": "be brief"}
    assert conversational(rows, "be brief")["prompt"] == [
        [system, {"role": "user", "content": "what is 1 + 2 ?"}], [system, *chat],
        [system, {"role": "user", "content": "[not json"}]]
    assert conversational(rows)["prompt"][1] == chat


# -- the tiny model's templates, as TRL checks and parses them ----------------------------------------------

def test_tiny_tool_template_is_one_trl_accepts_and_parses():
    from trl.chat_template_utils import (
        is_chat_template_prefix_preserving,
        parse_response,
        supports_tool_calling,
    )

    from trainer.tool_data import tool_tokenizer, traces
    [row] = list(traces(1, seed=3))
    tokenizer = tool_tokenizer([], [row["messages"]])
    assert supports_tool_calling(tokenizer) and is_chat_template_prefix_preserving(tokenizer)
    messages, tool = row["messages"], SandboxFactory(RewardClient(), ToolsConfig())().python
    for turn in (1, 3):  # the call, then the answer after the tool's output
        prefix = tokenizer.apply_chat_template(messages[:turn], add_generation_prompt=True, tokenize=True,
                                               return_dict=False)
        full = tokenizer.apply_chat_template(messages[:turn + 1], tokenize=True, return_dict=False)
        assert tokenizer.unk_token_id not in full
        parsed = parse_response(tokenizer, full[len(prefix):], prefix=prefix, tools=[tool])
        expected = messages[turn]
        assert parsed.get("tool_calls", []) == expected.get("tool_calls", [])
        assert parsed["content"] == expected["content"]


def test_traces_are_seeded_and_shipped():
    from trainer.data import read_jsonl
    from trainer.tool_data import traces
    assert list(traces(5, seed=1)) == list(traces(5, seed=1)) != list(traces(5, seed=2))
    assert read_jsonl(ROOT / "trainer" / "shipped_data" / "tool_calls_demo.jsonl") == list(traces(256, seed=0))


# -- end to end: SFT teaches the call, GRPO runs it in the service's sandbox, /score rewards -------------------

@pytest.mark.slow
def test_grpo_calls_the_python_tool_through_the_service(sandbox_service, tmp_path):
    from trainer.callbacks import read_metrics
    from trainer.grpo import build_trainer, close_scorer
    from trainer.sft import build_trainer as build_sft

    sft = load_config(CONFIGS / "tiny-tool-sft.yaml", [f"output_dir={tmp_path / 'sft'}",
                                                       "training.disable_tqdm=true"])
    sft_trainer = build_sft(sft)
    sft_trainer.train()
    sft_trainer.save_model(sft.output_dir)

    steps, per_step = 4, 8
    cfg = load_config(CONFIGS / "tiny-tool.yaml", [
        f"model={tmp_path / 'sft'}", f"output_dir={tmp_path / 'grpo'}", f"service.url={sandbox_service.url}",
        f"training.max_steps={steps}", "training.disable_tqdm=true"])
    before = session_counts(sandbox_service.url)
    sandbox = SandboxFactory.from_config(cfg.service, cfg.tools)
    trainer, scorer = build_trainer(cfg, sandbox=sandbox)
    try:
        trainer.train()
    finally:
        close_scorer(trainer, scorer)
    after = session_counts(sandbox_service.url)

    # The tool was really called during generation, each call a run in a sandbox session of the service;
    # one session per rollout (opened ahead), all closed at the end.
    stats = sandbox.stats
    assert stats.calls >= steps * per_step // 2 and stats.failures == 0
    assert after["runs"] - before["runs"] == stats.calls
    assert after["opened"] - before["opened"] == steps * per_step >= stats.sessions
    assert after["live"] == before["live"]
    rows = read_metrics(tmp_path / "grpo")
    assert len(rows) == steps and all(r["tools/call_frequency"] > 0 for r in rows)

    # Every reward came from /score, and the policy got some right: it copied the tool's output.
    assert (scorer.requests, scorer.scored, scorer.unscored) == (steps, steps * per_step, 0)
    for row, call in zip(rows, scorer.history, strict=True):
        assert row["reward"] == pytest.approx(sum(call["rewards"]) / len(call["rewards"]), abs=1e-5)
    assert sum(sum(call["rewards"]) for call in scorer.history) > 0
