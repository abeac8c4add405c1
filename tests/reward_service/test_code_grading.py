"""Code items through the service over HTTP, graded in the sandbox (auto: Docker here, bwrap without it)."""

from __future__ import annotations

import httpx
import pytest

from reward_service.grading.code import extract_code
from tests.conftest import Service, need


@pytest.fixture(scope="module")
def code_service():
    import shutil
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_CODE_WORKERS": "2", "REWARD_SANDBOX_BACKEND": "auto"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


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
