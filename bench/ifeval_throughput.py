"""ifeval items/s through the service against a plain loop over the reference checkers in one process.

    python -m bench.ifeval_throughput [--items 2000] [--workers 2]

Items as IFEval's are: one to three instructions each (drawn from the agreement corpus, no two that IFEval's
table says conflict), a response of 1-6 paragraphs of the corpus's varied text. (a) the reference: Google's
checkers as lm-eval ships them (when installed, see bench/README.md; else our own registry in the same plain
loop, said in the table), strict and loose for each instruction as its evaluation does; (b) the same items
through a fresh service over loopback HTTP (``accuracy`` with ``loose``: strict and loose both computed), four
requests in flight. The ratio is (a) time / (b) time: above 1 the service is faster.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench._common import print_table, start_service
from bench.ifeval_agreement import reference_verdicts
from bench.ifeval_cases.google import CASES, POOL
from reward_service.client import RewardClient
from reward_service.grading.ifeval.conflicts import first_conflict

PROMPT = "Write a short poem about the sea."


def items(n: int, rng: random.Random) -> list[dict[str, Any]]:
    usable = [c for c in CASES if c[1].get("language") != "zh"]  # the reference does not know zh
    out = []
    while len(out) < n:
        picked = rng.sample(usable, rng.randint(1, 3))
        if first_conflict([c[0] for c in picked]) or len({c[0] for c in picked}) < len(picked):
            continue
        paragraphs = rng.sample(POOL + [r for c in picked for r in c[2]], rng.randint(1, 6))
        label = {"instruction_id_list": [c[0] for c in picked], "kwargs": [c[1] for c in picked]}
        out.append({"completion": "\n\n".join(paragraphs), "answer": json.dumps(label), "task": "ifeval",
                    "prompt": PROMPT})
    return out


def reference_registry() -> dict[str, Any] | None:
    try:
        from bench.ifeval_reference import load_registry
        return load_registry("ifeval")
    except SystemExit:
        return None


def plain_loop(rows: list[dict[str, Any]], registry: dict[str, Any] | None) -> float:
    """Each instruction built and checked, strict and loose, in one process: the reference's code, or ours
    (``registry`` None) through :func:`grade_ifeval`."""
    from reward_service.grading.ifeval import grade_ifeval
    from reward_service.grading.ifeval.text import warmup
    warmup()  # NLTK's import and langdetect's profiles: seconds, paid once by the service's forkserver too
    started = time.perf_counter()
    for row in rows:
        if registry is None:
            grade_ifeval(row["completion"], row["answer"], PROMPT, loose=True)
            continue
        label = json.loads(row["answer"])
        for iid, kwargs in zip(label["instruction_id_list"], label["kwargs"], strict=True):
            instruction = registry[iid](iid)
            instruction.build_description(**kwargs)
            if "prompt" in (instruction.get_instruction_args() or {}):
                instruction.build_description(prompt=PROMPT)
            reference_verdicts(instruction.check_following, row["completion"])
    return time.perf_counter() - started


def through_service(url: str, rows: list[dict[str, Any]], chunk: int = 250) -> tuple[float, int]:
    recipe = {"components": {"accuracy": {"weight": 1.0, "options": {"loose": True}}}}
    with RewardClient(url, max_batch=chunk, timeout=600) as client:
        started = time.perf_counter()
        chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
        with ThreadPoolExecutor(4) as pool:
            results = [r for part in pool.map(lambda c: client.score(c, recipe), chunks) for r in part]
        elapsed = time.perf_counter() - started
    return elapsed, sum(r.status == "ok" for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = items(args.items, random.Random(0))
    proc, url = start_service({"REWARD_WORKERS": str(args.workers)})
    try:
        through_service(url, rows[:50])  # warm the graders' imports (langdetect's profiles, NLTK)
        service_s, ok = through_service(url, rows)
    finally:
        proc.terminate()
        proc.wait()
    registry = reference_registry()
    ours_s = plain_loop(rows, None)
    plain_s = plain_loop(rows, registry) if registry else ours_s
    which = "lm-eval (Google's code)" if registry else "our registry (lm-eval not installed)"
    print_table([
        {"path": f"(a) plain loop: {which}", "items": len(rows), "seconds": plain_s, "items/s": len(rows) / plain_s},
        {"path": f"(b) service, {args.workers} workers, HTTP", "items": ok, "seconds": service_s,
         "items/s": len(rows) / service_s},
        {"path": "(c) plain loop: our registry", "items": len(rows), "seconds": ours_s, "items/s": len(rows) / ours_s},
    ])
    print(f"ratio (a)/(b): {plain_s / service_s:.2f}x; (c)/(b): {ours_s / service_s:.2f}x")


if __name__ == "__main__":
    main()
