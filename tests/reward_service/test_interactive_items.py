"""Interactive items through the service over HTTP, in one batch with a plain one (auto: Docker here, bwrap
without it): graded 1.0 and 0.0, and an interactor that does not compile is invalid with the reason."""

from __future__ import annotations

import httpx

INTERACTOR = """\
import sys
n, secret = map(int, open(sys.argv[1]).read().split())
print(n)
for asked in range(12):
    kind, _, value = sys.stdin.readline().strip().partition(" ")
    if kind == "!":
        sys.exit(0 if int(value) == secret else "wrong guess")
    print("<" if secret < int(value) else ">" if secret > int(value) else "=")
sys.exit("too many queries")
"""
BINARY = """\
lo, hi = 1, int(input())
while True:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)
    reply = input()
    if reply == "=":
        print("!", mid, flush=True)
        break
    lo, hi = (lo, mid - 1) if reply == "<" else (mid + 1, hi)
"""


def item(code: str, interactor: dict, **kw):
    return {"completion": f"```python\n{code}\n```", "task": "code", "language": "python",
            "tests": {"interactor": interactor, "inputs": ["1000 700\n", "1000 3\n"]}, **kw}


def test_interactive_items_in_a_batch(code_service):
    python = {"language": "python", "source": INTERACTOR}
    items = [
        {**item(BINARY, python), "id": "binary"},
        {**item('input()\nprint("! 1", flush=True)', python), "id": "blind"},
        {**item(BINARY, {"language": "cpp", "source": "int main( {"}), "id": "bad-interactor"},
        {"id": "plain", "completion": "```python\nprint(int(input()) * 2)\n```", "task": "code",
         "language": "python", "tests": {"inputs": ["2\n"], "outputs": ["4\n"]}},
    ]
    results = {r["id"]: r for r in httpx.post(code_service.url + "/score", json={"items": items},
                                              timeout=300).json()["results"]}
    assert results["binary"]["reward"] == 1.0 and results["plain"]["reward"] == 1.0
    blind = results["blind"]
    assert blind["reward"] == 0.0 and blind["details"]["accuracy"]["tests"][0]["verdict"] == "wrong_answer"
    bad = results["bad-interactor"]
    assert bad["status"] == "invalid" and "the interactor does not compile" in bad["error"]
