"""Code items through the service over HTTP, graded in the sandbox (auto: Docker here, bwrap without it)."""

from __future__ import annotations

import httpx
import pytest

from reward_service.grading.code import extract_code
from tests.conftest import need

TESTS = {"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]}


def item(code: str, lang: str = "python", **kw):
    return {"completion": f"<think>easy</think>\n```{lang}\n{code}\n```", "task": "code", "tests": TESTS,
            "language": lang, **kw}


def test_code_items_in_one_batch_fail_alone(code_service):
    items = [
        {**item("a, b = map(int, input().split())\nprint(a + b)"), "id": "ok"},
        {**item("print(0)"), "id": "wrong"},
        {**item("#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b;}", "cpp"), "id": "cpp"},
        {"id": "no-code", "completion": "<think>x</think> I would use a loop.", "task": "code", "tests": TESTS},
        {**item("print(1)"), "id": "bad-tests", "tests": {"inputs": ["1"]}},
        {**item("print(1)", "cobol"), "id": "cobol"},
        {**item("while True: pass"), "id": "slow", "limits": {"time_limit_s": 0.5}},
    ]
    body = {"items": items, "recipe": {"components": {"accuracy": {"options": {"partial": True}}}}}
    results = {r["id"]: r for r in httpx.post(code_service.url + "/score", json=body, timeout=300).json()["results"]}
    assert results["ok"]["reward"] == 1.0 and results["ok"]["details"]["accuracy"]["verdict"] == "accepted"
    assert results["wrong"]["reward"] == 0.0 and results["wrong"]["details"]["accuracy"]["verdict"] == "wrong_answer"
    assert results["cpp"]["reward"] == 1.0
    assert results["no-code"]["reward"] == 0.0 and "no ```python block" in results["no-code"]["details"]["accuracy"]["reason"]
    assert results["bad-tests"]["status"] == "invalid" and "bad tests" in results["bad-tests"]["error"]
    assert results["cobol"]["status"] == "invalid" and "cobol" in results["cobol"]["error"]
    assert results["slow"]["reward"] == 0.0 and results["slow"]["details"]["accuracy"]["verdict"] == "time_limit"


def test_readyz_reports_a_working_sandbox(code_service):
    body = httpx.get(code_service.url + "/readyz").json()
    need(body["sandbox"] == "ok", f"no sandbox on this machine (readyz: {body})")
    assert body["status"] == "ready"


def test_partial_credit_is_the_passed_fraction(code_service):
    half = item("a, b = map(int, input().split())\nprint(5)")
    binary = httpx.post(code_service.url + "/score", json={"items": [half], "recipe": "accuracy"}, timeout=120)
    partial = httpx.post(code_service.url + "/score", timeout=120, json={
        "items": [half], "recipe": {"components": {"accuracy": {"options": {"partial": True}}}}})
    assert binary.json()["results"][0]["reward"] == 0.0
    assert partial.json()["results"][0]["reward"] == 0.5


def test_code_block_extraction():
    text = "```python\nold()\n```\nbetter:\n```py\nnew()\n```\n```cpp\nint main(){}\n```"
    assert extract_code(text, "python") == "new()\n"
    assert extract_code(text, "cpp") == "int main(){}\n"
    assert extract_code("```\nplain()\n```", "python") == "plain()\n"
    assert extract_code("no fences", "python") is None


def test_grade_code_says_why_without_running_anything():
    from reward_service.grading.code import grade_code
    tests = {"inputs": ["1\n"], "outputs": ["1\n"]}
    no_block = grade_code("I would print it.\n```cpp\nint main(){}\n```", tests, "python")
    assert no_block.score == 0.0 and no_block.reason == "no ```python block in the final answer"
    cobol = grade_code("```cobol\nx\n```", tests, "cobol")
    assert cobol.status == "invalid" and "python" in cobol.reason and "cpp" in cobol.reason  # what is supported
    bad = grade_code("```python\nprint(1)\n```", {"inputs": ["1"], "outputs": []}, "python")
    assert bad.status == "invalid" and "1 inputs but 0 outputs" in bad.reason
    unsigned = grade_code("```cpp\nint f(int x){return x;}\n```", {"fn_name": "f", "inputs": ["1"], "outputs": ["1"]},
                          "cpp")
    assert unsigned.status == "invalid" and "params" in unsigned.reason  # a typed language needs the signature


def test_no_sandbox_is_an_error_not_a_zero(monkeypatch):
    import sandbox
    from reward_service.grading.code import grade_code
    from sandbox.backends import Backends
    monkeypatch.setattr(sandbox, "BACKENDS", Backends())  # none made yet; this process's warm ones are left alone
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setattr("shutil.which", lambda name, *a, **k: None)
    verdict = grade_code("```python\nprint(1)\n```", {"inputs": [""], "outputs": ["1"]}, "python")
    assert verdict.status == "error" and verdict.score is None
    assert verdict.reason.startswith("no sandbox available: install Docker or bubblewrap")


async def test_an_engine_built_in_code_passes_its_own_settings_to_the_graders(monkeypatch):
    """Not the environment's: here the environment says 'auto' (a sandbox that works), the engine 'none'."""
    from reward_service.engine import GradingEngine
    from reward_service.recipes import resolve
    from reward_service.schemas import ScoreItem
    from reward_service.settings import Settings
    monkeypatch.setenv("REWARD_SANDBOX_BACKEND", "auto")
    engine = GradingEngine(Settings(workers=1, code_workers=1, sandbox_backend="none"))
    await engine.start()
    try:
        item = ScoreItem(id="c", task="code", completion="```python\nprint(1)\n```",
                         tests={"inputs": [""], "outputs": ["1"]})
        [result] = await engine.score([item], resolve("accuracy", ""))
    finally:
        await engine.aclose()
    assert result.status == "error" and "REWARD_SANDBOX_BACKEND=none" in result.error, result


def test_grade_code_on_each_backend(backend):
    """The bridge end to end on each backend: verdict details, partial credit, C++, early stop."""
    from reward_service.grading.code import grade_code
    from reward_service.schemas import CodeLimits
    name = backend.name
    half = "<think>hm</think>\n```py\na, b = map(int, input().split())\nprint(5)\n```"
    binary = grade_code(half, TESTS, "python", backend=name)
    assert binary.score == 0.0 and binary.details["verdict"] == "wrong_answer"
    assert [t["verdict"] for t in binary.details["tests"]] == ["accepted", "wrong_answer"]
    partial = grade_code(half, TESTS, "python", partial=True, backend=name)
    assert partial.score == 0.5 and partial.details["passed"] == 1
    stop = grade_code(half.replace("print(5)", "print(0)"), TESTS, "python", CodeLimits(stop_on_first_failure=True),
                      partial=True, backend=name)
    assert [t["verdict"] for t in stop.details["tests"]] == ["wrong_answer", "skipped"]
    cpp = "```c++\n#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b;}\n```"
    good = grade_code(cpp, TESTS, "cpp", backend=name)
    assert good.score == 1.0 and good.details["backend"] == name and good.details["tests"][0]["time_s"] > 0
    broken = grade_code("```cpp\nint main( {}\n```", TESTS, "cpp", backend=name)
    assert broken.score == 0.0 and broken.details["verdict"] == "compile_error" and broken.details["compile_output"]


HOSTILE = {  # what the program does -> what it must come to: a 0 with status ok, in a bounded verdict
    "urandom_result": ("import os\ndef f(x):\n    os.symlink('/dev/urandom', os.environ['SANDBOX_RESULT'])\n"
                       "    os._exit(0)\n", "f"),
    "invalid_utf8_result": ("import os\ndef f(x):\n    open(os.environ['SANDBOX_RESULT'], 'wb').write(b'\\xff[' * 99999)\n"
                            "    os._exit(0)\n", "f"),
    "deep_result": ("import os\ndef f(x):\n    open(os.environ['SANDBOX_RESULT'], 'w').write('[' * 100000)\n"
                    "    os._exit(0)\n", "f"),
    "stderr_flood": ("import sys\nsys.stderr.write(('\\x01\\U0001f600\"\\\\' * 300000) + '\\n')\n"
                     "raise ValueError('the last line')\n", None),
    "huge_exception": ("raise ValueError('\\x00\\U0001f600' * 1000000 + ' the last line')\n", None),
    "huge_stdout": ("print('\\x02' * 2000000)\n", None),
    "pid_hog": ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True:\n        try:\n"
                "            os.fork()\n        except OSError:\n            time.sleep(0.01)\n"
                "time.sleep(0.3)\nprint('no')\n", None),
}


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_whatever_a_program_writes_is_a_bounded_zero(backend, hostile):
    """Its own channels and limits are the program's business (accuracy 0, status ok, never an error that
    the trainer would drop from the group), and every string it controls is cut to a few kB."""
    import json

    from reward_service.grading.code import grade_code
    from reward_service.schemas import CodeLimits
    name = backend.name
    code, fn_name = HOSTILE[hostile]
    n = 3 if hostile == "pid_hog" else 30  # many failing tests, each with a long detail: the verdict stays small
    tests = {"inputs": ["1"] * n, "outputs": ["2"] * n, **({"fn_name": fn_name} if fn_name else {})}
    verdict = grade_code(f"```python\n{code}```", tests, "python", CodeLimits(stop_on_first_failure=False),
                         partial=True, backend=name)
    size = len(json.dumps(verdict.to_dict()))
    assert verdict.status == "ok" and verdict.score == 0.0, (verdict.status, verdict.reason)
    assert size < 32_000, size
    if "the last line" in code:  # the end of stderr is what is kept: the exception line is there
        assert verdict.details["tests"][0]["detail"].endswith("the last line")


def test_a_flood_of_compile_errors_is_cut_keeping_the_first_error(backend):
    import json

    from reward_service.grading.code import grade_code
    name = backend.name
    code = "int main() {\n" + "  undefined_\x01_name_\u00e9;\n" * 3000 + "  last_undefined_name;\n}\n"
    verdict = grade_code(f"```cpp\n{code}```", TESTS, "cpp", backend=name)
    assert verdict.status == "ok" and verdict.details["verdict"] == "compile_error"
    assert len(json.dumps(verdict.to_dict())) < 32_000
    said = verdict.details["compile_output"]
    assert "main.cpp:2:" in said and "error" in said.splitlines()[0]  # the first error, where it starts
    assert said.rstrip().endswith("[...]") and "last_undefined_name" not in said
