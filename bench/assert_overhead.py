"""Assert-style tests: what keeping the test code out of the candidate's process costs.

    python -m bench.assert_overhead [--problems 164] [--calls 200] [--backends docker,bwrap]

Two measures, each against a baseline in the same run:

1. **Per item.** A ``check`` that calls the candidate once, against one function-call test case (one run of
   the candidate in the sandbox, compared on the host): the difference is what the test process costs, in
   its own sandbox (a second session, the test program started and talked to).
2. **Per call.** A ``check`` that calls the candidate once, and one that calls it ``1 + --calls`` times; the
   difference over ``--calls`` is the cost of one call through the proxy (a run of the candidate's harness
   in the sandbox, the values across as JSON, relayed to and from the test process's sandbox). Baseline: the
   same number of function-call test cases (``fn_name`` tests, one sandbox run each, compared on the host),
   the cost the sandbox already had per test.
3. **HumanEval, all of it** (../shared/data): the canonical solutions judged one after the other with their
   own ``check``. Baseline: HumanEval's own way, solution + test + ``check(entry_point)`` in one fresh,
   unsandboxed ``python`` process per problem (the harness the exploits beat).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import SHARED_DATA, print_table
from sandbox import Verdict, get_backend, get_language, judge, parse_tests

PY = get_language("python")
ADD = "def add(a, b):\n    return a + b\n"


def timed(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs (the least disturbed by the machine's noise)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def judged(code: str, tests, backend) -> None:
    report = judge(code, PY, parse_tests(tests), backend)
    assert report.verdict is Verdict.accepted, report


def check(n: int) -> dict:
    return {"check": f"def check(candidate):\n    for i in range({n}):\n        assert candidate(i, 1) == i + 1\n",
            "entry_point": "add"}


def cases(n: int) -> dict:
    return {"fn_name": "add", "inputs": [f"{i}\n1" for i in range(n)], "outputs": [str(i + 1) for i in range(n)]}


def per_item(backend) -> tuple[float, float]:
    """(seconds for an assert-style item of one call, seconds for an item of one function-call test case)."""
    judged(ADD, check(1), backend)  # warm the backend
    return (timed(lambda: judged(ADD, check(1), backend), repeat=9),
            timed(lambda: judged(ADD, cases(1), backend), repeat=9))


def per_call(backend, calls: int) -> tuple[float, float]:
    """(seconds per proxied call, seconds per function-call test case)."""
    judged(ADD, check(1), backend)  # warm the backend
    proxy = (timed(lambda: judged(ADD, check(1 + calls), backend)) - timed(lambda: judged(ADD, check(1), backend)))
    plain = (timed(lambda: judged(ADD, cases(1 + calls), backend)) - timed(lambda: judged(ADD, cases(1), backend)))
    return proxy / calls, plain / calls


def humaneval(limit: int) -> list[dict]:
    with gzip.open(SHARED_DATA / "HumanEval.jsonl.gz", "rt") as lines:
        return [json.loads(line) for line in lines][:limit]


def naive(problems: list[dict]) -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for p in problems:
            path = Path(tmp) / "t.py"
            path.write_text(p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + f"\ncheck({p['entry_point']})\n")
            subprocess.run([sys.executable, str(path)], check=True, capture_output=True, cwd=tmp)
    return time.perf_counter() - started


def ours(problems: list[dict], backend) -> float:
    started = time.perf_counter()
    for p in problems:
        judged(p["prompt"] + p["canonical_solution"], {"check": p["test"], "entry_point": p["entry_point"]}, backend)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=164)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backends", default="docker,bwrap")
    args = parser.parse_args()
    problems = humaneval(args.problems)
    base = naive(problems)
    rows = [{"configuration": "naive: one unsandboxed process per problem", "time": f"{base:.1f} s", "vs naive": "1.00x"}]
    call_rows, item_rows = [], []
    for name in args.backends.split(","):
        backend = get_backend(name)
        asserts, one_case = per_item(backend)
        item_rows.append({"backend": name, "assert-style, 1 call": f"{asserts * 1000:.1f} ms",
                          "1 function-call case": f"{one_case * 1000:.1f} ms",
                          "test process's sandbox": f"+{(asserts - one_case) * 1000:.1f} ms",
                          "ratio": f"{asserts / one_case:.2f}x"})
        proxy, plain = per_call(backend, args.calls)
        call_rows.append({"backend": name, "proxied call": f"{proxy * 1000:.2f} ms",
                          "function-call test case": f"{plain * 1000:.2f} ms", "ratio": f"{proxy / plain:.2f}x"})
        total = ours(problems, backend)
        rows.append({"configuration": f"ours, {name}", "time": f"{total:.1f} s", "vs naive": f"{total / base:.2f}x"})
    print("Per item (fastest of 9):")
    print_table(item_rows)
    print(f"\nPer call ({args.calls} calls, fastest of 3):")
    print_table(call_rows)
    print(f"\n{len(problems)} HumanEval canonical solutions, each with its own check:")
    print_table(rows)


if __name__ == "__main__":
    main()
