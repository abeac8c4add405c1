"""Math grading throughput: a plain math-verify loop vs the service over HTTP, on the same batch.

    python -m bench.math_throughput [--items 1000] [--workers 2]

The batch is real data from ../shared/data: model completions of MATH problems (8 samples per problem, as
in a GRPO group) and MATH-500 reference solutions against their own and shuffled answers. Prints items/s
of (a) a single-process loop of math-verify's parse/verify, (b) the service (cold caches), (c) the same
batch again (fully cached), and the ratios; then probes hard timeouts: the slowest of a few pathological
items must come back within its limit + 0.5 s while normal items keep flowing.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench._common import SHARED_DATA, print_table, start_service
from reward_service.client import RewardClient

PATHOLOGICAL = Path(__file__).resolve().parents[1] / "tests" / "reward_service" / "data" / "pathological.jsonl"


def load_batch(n: int, seed: int = 0) -> list[dict]:
    rows = [json.loads(line) for line in (SHARED_DATA / "math_cot_100.jsonl").read_text().splitlines()]
    items = []
    for row in rows:
        for j, response in enumerate(row["response"]):
            items.append({"id": f"cot-{row['idx']}-{j}", "completion": response, "answer": str(row["gt"])})
    math500 = [json.loads(line) for line in (SHARED_DATA / "math500.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    for i, row in enumerate(math500):
        other = math500[rng.randrange(len(math500))] if i % 2 else row
        items.append({"id": f"m500-{i}", "completion": row["solution"], "answer": other["answer"]})
    rng.shuffle(items)
    return items[:n]


def plain_loop(items: list[dict]) -> float:
    """(a) what a trainer does without us: parse and verify in one process, math-verify's defaults."""
    from math_verify import parse, verify
    started = time.perf_counter()
    for item in items:
        verify(parse(item["answer"]), parse(item["completion"]))
    return time.perf_counter() - started


def through_service(url: str, items: list[dict], chunk: int = 250) -> tuple[float, list]:
    with RewardClient(url, max_batch=chunk, timeout=600) as client:
        started = time.perf_counter()
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        with ThreadPoolExecutor(len(chunks)) as pool:  # several trainer ranks posting at once
            results = [r for part in pool.map(lambda c: client.score(c, "accuracy"), chunks) for r in part]
        return time.perf_counter() - started, results


def timeout_probe(url: str, limit: float, workers: int) -> dict[str, float]:
    """Pathological items interleaved with normal ones, ``workers`` requests in flight (no queueing): each
    pathological item must come back ``timeout`` within its limit + 0.5 s, and normal ones keep flowing."""
    cases = [json.loads(line) for line in PATHOLOGICAL.read_text().splitlines() if line.strip()]
    normal = {"completion": "\\boxed{4}", "answer": "4"}

    def one(item: dict) -> tuple[float, str]:
        started = time.perf_counter()
        r = httpx.post(url + "/score", json={"items": [item], "recipe": "accuracy"}, timeout=120).json()
        return time.perf_counter() - started, r["results"][0]["status"]

    jobs = []
    for c in cases:
        jobs += [{"completion": c["region"], "answer": c["reference"]}, normal, normal]
    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(one, jobs))
    hung = [t for t, status in outcomes if status == "timeout"]
    fine = [t for t, status in outcomes if status == "ok"]
    return {"pathological": len(cases), "timed_out": len(hung), "slowest_s": max(hung),
            "slowest_normal_s": max(fine), "limit_s": limit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0, help="the service's per-item limit")
    args = parser.parse_args()
    if not SHARED_DATA.exists():
        raise SystemExit(f"needs the public data at {SHARED_DATA}")
    items = load_batch(args.items)
    answers = {(i["answer"], i["completion"][-200:]) for i in items}
    print(f"batch: {len(items)} items, {len(answers)} distinct (answer, ending) pairs")

    proc, url = start_service({"REWARD_WORKERS": str(args.workers), "REWARD_ITEM_TIMEOUT_S": str(args.timeout)})
    try:
        through_service(url, load_batch(20, seed=1))  # warm the HTTP path, not the caches
        t_plain = plain_loop(items)
        t_cold, results = through_service(url, items)
        t_warm, again = through_service(url, items)
        assert [r.reward for r in results] == [r.reward for r in again]
        probe = timeout_probe(url, args.timeout, args.workers)
    finally:
        proc.terminate()
        proc.wait()
    n = len(items)
    rate = {name: n / t for name, t in (("plain", t_plain), ("service", t_cold), ("cached", t_warm))}
    statuses = {s: sum(r.status == s for r in results) for s in ("ok", "invalid", "timeout", "error")}
    print_table([
        {"path": "(a) plain math-verify loop, 1 process", "items/s": rate["plain"], "x plain": 1.0},
        {"path": f"(b) service over HTTP, {args.workers} graders", "items/s": rate["service"],
         "x plain": rate["service"] / rate["plain"]},
        {"path": "(c) same batch again (cached)", "items/s": rate["cached"],
         "x plain": rate["cached"] / rate["plain"]},
    ])
    print(f"statuses (b): {statuses}; rewards identical on repeat: yes")
    ok = probe["slowest_s"] <= probe["limit_s"] + 0.5
    print(f"timeout probe: {probe['timed_out']}/{probe['pathological']} pathological items timed out; slowest "
          f"answer {probe['slowest_s']:.2f} s for a {probe['limit_s']:.1f} s limit "
          f"({'within' if ok else 'OVER'} limit + 0.5 s); slowest normal item beside them "
          f"{probe['slowest_normal_s']:.2f} s")
    print(f"targets: (b) >= 1.5x: {rate['service'] / rate['plain'] >= 1.5}, "
          f"(c) >= 20x: {rate['cached'] / rate['plain'] >= 20}")


if __name__ == "__main__":
    main()
