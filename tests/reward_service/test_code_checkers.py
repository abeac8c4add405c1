"""Checker items through the service over HTTP, in one batch with plain ones (auto: Docker here, bwrap
without it)."""

from __future__ import annotations

import httpx

PAIR_CHECKER = """\
import sys
inp, out = (open(p).read().split() for p in sys.argv[1:3])
target, values = int(inp[0]), [int(x) for x in inp[1:]]
i, j = (int(x) for x in out)
if i == j or values[i] + values[j] != target:
    sys.exit("values at %d and %d do not sum to %d" % (i, j, target))
"""
PARTIAL_CHECKER = "import sys\nprint(0.5, file=sys.stderr)\nsys.exit(7)\n"


def item(code: str, checker, **kw):
    tests = {"inputs": ["9 2 7 4 5\n", "3 1 2\n"], "outputs": ["0 1\n", "0 1\n"], "checker": checker}
    return {"completion": f"<think>pairs</think>\n```python\n{code}\n```", "task": "code", "tests": tests,
            "language": "python", **kw}


def test_checker_items_in_a_batch(code_service):
    search = ("import sys\nt, *v = map(int, sys.stdin.read().split())\n"
              "print(*next((i, j) for j in reversed(range(len(v))) for i in range(j) if v[i] + v[j] == t))")
    items = [
        {**item(search, {"language": "python", "code": PAIR_CHECKER}), "id": "other-pair"},  # 2 3 first
        {**item("print(0, 0)", {"language": "python", "code": PAIR_CHECKER}), "id": "wrong"},
        {**item(search, {"language": "python", "code": "import sys\nsys.exit(3)"}), "id": "broken-checker"},
        {**item(search, {"language": "python", "code": PARTIAL_CHECKER}), "id": "partial"},
        {**item(search, "no_such_checker"), "id": "unknown-checker"},
        {**item(search, "unordered_lines"), "id": "builtin"},
    ]
    body = {"items": items, "recipe": {"components": {"accuracy": {"options": {"partial": True}}}}}
    results = {r["id"]: r for r in httpx.post(code_service.url + "/score", json=body, timeout=300).json()["results"]}
    assert results["other-pair"]["reward"] == 1.0
    wrong = results["wrong"]["details"]["accuracy"]
    assert results["wrong"]["reward"] == 0.0 and "do not sum" in wrong["tests"][0]["detail"]
    assert results["broken-checker"]["status"] == "error" and "checker failed" in results["broken-checker"]["error"]
    partial = results["partial"]["details"]["accuracy"]
    assert results["partial"]["reward"] == 0.5 and partial["tests"][0] == {**partial["tests"][0], "score": 0.5}
    assert results["unknown-checker"]["status"] == "invalid" and "unordered_lines" in results["unknown-checker"]["error"]
    builtin = results["builtin"]["details"]["accuracy"]  # "2 3" is not the answer's "0 1" in any order
    assert results["builtin"]["reward"] == 0.5 and [t["verdict"] for t in builtin["tests"]] == [
        "wrong_answer", "accepted"]
