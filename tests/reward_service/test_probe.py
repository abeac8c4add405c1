"""The reward-hacking probe: the shipped catalogue earns nothing under any built-in recipe, and a catalogue
that does leak is caught (exit 1), as an error of ours is (exit 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from reward_service import llm_judge
from reward_service.probe import CATALOGUE, PROBE_JUDGE, judge_recipe, load, run_probe
from reward_service.settings import Settings
from tests.conftest import ROOT

RIGHT = {"task": "math", "answer": "4", "completion": "<think>2+2</think> <answer>\\boxed{4}</answer>"}


def catalogue(tmp_path, **exploits):
    for name, (item, expect) in exploits.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"name": name, "item": item, "expect": expect}))
    return str(tmp_path)


def test_the_catalogue_covers_every_family():
    names = [e.name for e in load()]
    for family in ("math-", "format-", "length-", "code-", "language-", "judge-", "caller-judge-"):
        assert sum(n.startswith(family) for n in names) >= 1, family
    assert len(names) == len(list(CATALOGUE.glob("*.json"))) >= 20


@pytest.mark.slow
def test_no_built_in_recipe_leaks(capsys):
    """What the project's CI promises: every exploit earns nothing under every built-in recipe."""
    code = run_probe(None, url=None, api_key=None, exploits_dir=None, settings=Settings(workers=2))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "LEAK" not in out and "ERROR" not in out and "(5 recipe(s), 2 caller-side exploit(s))" in out
    for name in ("math-huge-expression", "code-sleep-past-the-limit", "format-second-think-block",
                 "judge-fallback", "judge-injection-ends-the-quote", "caller-judge-url-and-key"):
        assert name in out


def test_a_leak_is_caught_and_named(tmp_path, capsys):
    dir_ = catalogue(tmp_path, **{"honest-answer-as-exploit": (RIGHT, {"accuracy": 0}),
                                  "no-such-component": (RIGHT, {"overlong": -1})})
    code = run_probe(["accuracy"], url=None, api_key=None, exploits_dir=dir_, settings=Settings(workers=1))
    out = capsys.readouterr().out
    assert code == 1
    rows = {line.split()[1]: line.split()[-1] for line in out.splitlines()[1:-1]}
    assert rows == {"honest-answer-as-exploit": "LEAK", "no-such-component": "n/a"}


def test_our_own_failure_is_an_error_not_a_pass(tmp_path, capsys):
    code_item = {"task": "code", "language": "python", "tests": {"inputs": [""], "outputs": ["1"]},
                 "completion": "```python\nprint(1)\n```"}
    dir_ = catalogue(tmp_path, **{"code-without-a-sandbox": (code_item, {"accuracy": 1})})
    code = run_probe(["accuracy"], url=None, api_key=None, exploits_dir=dir_,
                     settings=Settings(workers=1, sandbox_backend="none"))
    assert code == 2 and "ERROR" in capsys.readouterr().out


def test_the_probe_runs_against_a_service(service, tmp_path, capsys):
    wrong_order = {"task": "math", "answer": "4", "completion": "<answer>\\boxed{4}</answer> <think>2+2</think>"}
    dir_ = catalogue(tmp_path, **{"format-wrong-order": (wrong_order, {"format": 0}),
                                  "honest": (RIGHT, {"accuracy": 0})})
    code = run_probe(["r1-zero"], url=service.url, api_key=None, exploits_dir=dir_, settings=Settings())
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split()[-1] for line in out.splitlines()[1:-1]}
    assert code == 1 and rows == {"format-wrong-order": "PASS", "honest": "LEAK"}, out


@pytest.mark.parametrize(("args", "said"), [
    (["--recipe", "no-such"], "unknown recipe 'no-such'"),
    (["--exploits", "/nonexistent"], "no exploit files"),
    (["--url", "http://127.0.0.1:1", "--recipe", "accuracy"], "reward service at http://127.0.0.1:1"),
])
def test_a_mistake_is_one_line_and_exit_2(args, said):
    done = subprocess.run([sys.executable, "-m", "reward_service", "probe", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr


# -- the judge (issue 17): a policy's injection, and a caller's judge options ------------------------------

def shipped(tmp_path, *names):
    for name in names:
        shutil.copy(CATALOGUE / f"{name}.json", tmp_path)
    return str(tmp_path)


def rows_of(out):
    return {line.split()[1]: (line.split()[0], line.split()[-1]) for line in out.splitlines()[1:-1]}


def test_an_injection_in_the_answer_gains_nothing_from_a_judge_that_obeys(tmp_path, capsys):
    """Graded here, the probe's judge obeys any order outside quoted data; the exploit's answer tries to end
    the quote and order a yes."""
    dir_ = shipped(tmp_path, "judge-injection-ends-the-quote")
    code = run_probe([judge_recipe(PROBE_JUDGE)], url=None, api_key=None, exploits_dir=dir_,
                     settings=Settings(workers=1))
    out = capsys.readouterr().out
    assert code == 0 and rows_of(out) == {"judge-injection-ends-the-quote": ("judge-fallback", "PASS")}, out
    assert "accuracy 0" in out


def test_the_probe_catches_a_judge_prompt_that_does_not_quote(tmp_path, capsys, monkeypatch):
    """Today's prompt put the answer in as it was: the same exploit then earns the judge's yes."""
    monkeypatch.setattr(llm_judge, "quoted", lambda limit, **fields: "\n\n".join(fields.values()))
    dir_ = shipped(tmp_path, "judge-injection-ends-the-quote")
    code = run_probe([judge_recipe(PROBE_JUDGE)], url=None, api_key=None, exploits_dir=dir_,
                     settings=Settings(workers=1))
    out = capsys.readouterr().out
    assert code == 1 and rows_of(out) == {"judge-injection-ends-the-quote": ("judge-fallback", "LEAK")}, out


def test_a_callers_judge_options_are_refused_here_and_by_a_service(service, tmp_path, capsys):
    dir_ = shipped(tmp_path, "caller-judge-url-and-key", "caller-judge-operator-limits")
    for url, said in ((None, "refused"), (service.url, "refused (422)")):
        code = run_probe(["accuracy"], url=url, api_key=None, exploits_dir=dir_, settings=Settings(workers=1))
        out = capsys.readouterr().out
        assert code == 0, out
        assert rows_of(out) == {"caller-judge-url-and-key": ("caller:judge-options", "PASS"),
                                "caller-judge-operator-limits": ("caller:judge-options", "PASS")}, out
        assert f" {said} " in out and "(1 recipe(s), 2 caller-side exploit(s))" in out


def test_a_caller_exploit_that_is_accepted_is_a_leak(tmp_path, capsys):
    (tmp_path / "caller-plain.json").write_text(json.dumps({
        "name": "caller-plain", "class": "judge options", "recipe": {"components": {"accuracy": {}}},
        "item": RIGHT, "expect": "refused"}))
    code = run_probe(["accuracy"], url=None, api_key=None, exploits_dir=str(tmp_path), settings=Settings(workers=1))
    out = capsys.readouterr().out
    assert code == 1 and rows_of(out) == {"caller-plain": ("caller:judge-options", "LEAK")}, out
