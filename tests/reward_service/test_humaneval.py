"""HumanEval over HTTP, its tests as written: every canonical solution passes its own ``check``, every one
with its body replaced by ``return None`` fails, and the assert-style exploits of the probe's catalogue earn
nothing. Real data (../shared/data/HumanEval.jsonl.gz), the real service, the real sandbox."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from reward_service.probe import CATALOGUE
from tests.conftest import SHARED_DATA, need

pytestmark = pytest.mark.slow
HUMANEVAL = SHARED_DATA / "HumanEval.jsonl.gz"


def problems() -> list[dict]:
    need(HUMANEVAL.is_file(), f"HumanEval not found at {HUMANEVAL}")
    with gzip.open(HUMANEVAL, "rt") as lines:
        return [json.loads(line) for line in lines]


def item(problem: dict, body: str, tag: str, form: int) -> dict:
    """One completion of ``problem`` in one of the forms users post (varied: a corpus written one way hides
    bugs): 0, ``tests`` with the code fenced; 1, the same with the prompt as the problem's code; 2, the row
    as it is (``prompt``, ``test``, ``entry_point``, …) with the completion a bare body continuing the prompt,
    as HumanEval's own completions are; 3, the row as it is with the whole function fenced in prose."""
    code, fence = problem["prompt"] + body, ("python", "py", "")[form % 3]
    fenced = f"<think>I will write it.</think>\nHere it is:\n```{fence}\n{code}\n```"
    if form in (0, 1):
        tests = {"check": problem["test"], "entry_point": problem["entry_point"]}
        if form == 1:  # the problem's helpers (HumanEval/38's encode_cyclic) come from its prompt
            tests["prompt"] = problem["prompt"]
        return {"id": f"{problem['task_id']}/{tag}", "task": "code", "language": "python", "tests": tests,
                "completion": fenced}
    return {**problem, "id": f"{problem['task_id']}/{tag}", "completion": body if form == 2 else fenced}


def score(url: str, items: list[dict]) -> dict[str, dict]:
    r = httpx.post(url + "/score", json={"items": items, "recipe": "accuracy"}, timeout=600)
    assert r.status_code == 200, r.text[:500]
    return {res["id"]: res for res in r.json()["results"]}


def test_canonical_solutions_pass_and_return_none_fails(code_service):
    data = problems()
    assert len(data) == 164
    items = [item(p, p["canonical_solution"], "canonical", i % 4) for i, p in enumerate(data)]
    items += [item(p, "    return None\n", "none", (i + 1) % 4) for i, p in enumerate(data)]
    results = score(code_service.url, items)
    failed = [(k, r["details"]["accuracy"]) for k, r in results.items() if k.endswith("canonical") and r["reward"] != 1.0]
    assert not failed, failed[:3]
    passed = [k for k, r in results.items() if k.endswith("none") and r["reward"] != 0.0]
    assert not passed, passed[:5]
    assert all(r["status"] == "ok" for r in results.values())


def test_assert_exploits_earn_nothing_over_http(code_service):
    exploits = [json.loads(p.read_text()) for p in sorted(CATALOGUE.glob("code-asserts-*.json"))]
    assert len(exploits) >= 3
    results = score(code_service.url, [{**e["item"], "id": e["name"]} for e in exploits])
    for name, result in results.items():
        assert result["status"] == "ok" and result["reward"] == 0.0, (name, result)


def test_a_candidate_cannot_redefine_the_problems_helpers(code_service):
    # HumanEval/38 and /50: identity encode_*/decode_* pass when the helper is taken from the candidate.
    data = {p["task_id"]: p for p in problems()}
    items = []
    for task, (helper, entry) in {"HumanEval/38": ("encode_cyclic", "decode_cyclic"),
                                   "HumanEval/50": ("encode_shift", "decode_shift")}.items():
        p = data[task]
        cheat = f"def {helper}(s):\n    return s\n\ndef {entry}(s):\n    return s\n"
        for with_prompt in (True, False):
            tests = {"check": p["test"], "entry_point": entry, **({"prompt": p["prompt"]} if with_prompt else {})}
            items.append({"id": f"{task}/{with_prompt}", "task": "code", "tests": tests,
                          "completion": f"```python\n{cheat}```"})
    results = score(code_service.url, items)
    for task in ("HumanEval/38", "HumanEval/50"):
        assert results[f"{task}/True"]["reward"] == 0.0, results[f"{task}/True"]
        unguarded = results[f"{task}/False"]  # no prompt: the helper can only be the candidate's, and we say so
        assert unguarded["details"]["accuracy"]["names_from_candidate"], unguarded
