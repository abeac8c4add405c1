"""Math grading throughput and verdicts: a plain math-verify loop vs the service over HTTP, on the same batches.

    python -m bench.math_throughput [--items 1000] [--workers 2]

Three batches of real data from ../shared/data, each graded by (a) a single-process loop of math-verify's
parse/verify with its defaults (what a trainer does without us), (b) a fresh service (cold caches), (c) the
same batch again (cached; the median of 5 repeats, as one takes only ~0.1 s):

* ``real``: model completions of MATH problems (8 per problem, as in a GRPO group) and MATH-500 reference
  solutions against their own or another problem's answer;
* ``unboxed``: MATH-500 answers written bare or in ``$…$`` inside ``<answer>`` tags after a think block,
  against their own or another problem's answer;
* ``peer``: the peer suites' cases (long texts, relations, matrices, several languages).

Every row also checks the verdicts: on each item whose right verdict is known, wherever math-verify is
right the service must be right too (``lost`` = 0); ``gained`` counts the items only the service gets right.
Then a timeout probe: pathological items must come back ``timeout`` within their limit + 0.5 s while normal
items keep flowing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench._common import SHARED_DATA, print_table, start_service
from reward_service.client import RewardClient

PATHOLOGICAL = Path(__file__).resolve().parents[1] / "tests" / "reward_service" / "data" / "pathological.jsonl"
CACHED_REPEATS = 5
THINK = "<think>Let me work it out: 12 + 7 = 19, and check $x = 3$.</think> "


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (SHARED_DATA / name).read_text().splitlines() if line.strip()]


def _other(rows: list[dict], i: int, rng: random.Random) -> dict:
    other = rows[rng.randrange(len(rows))]
    while other["answer"].strip() == rows[i]["answer"].strip():
        other = rows[rng.randrange(len(rows))]
    return other


def real_batch(n: int, seed: int = 0) -> list[dict]:
    """Completions labelled by another grader (its one known label error corrected) and MATH-500 pairs."""
    from tests.reward_service.test_real_data import EXPLAINED
    items = []
    for row in _rows("math_cot_100.jsonl"):
        for j, (response, label) in enumerate(zip(row["response"], row["score"], strict=True)):
            truth = bool(label) != ((row["idx"], j) in EXPLAINED)
            items.append({"id": f"cot-{row['idx']}-{j}", "completion": response, "answer": str(row["gt"]),
                          "truth": truth if str(row["gt"]) != "4:30p.." else None})  # a damaged reference
    math500 = _rows("math500.jsonl")
    rng = random.Random(seed)
    for i, row in enumerate(math500):
        answer = _other(math500, i, rng)["answer"] if i % 2 else row["answer"]
        items.append({"id": f"m500-{i}", "completion": row["solution"], "answer": answer, "truth": not i % 2})
    random.Random(seed).shuffle(items)
    return items[:n]


def unboxed_batch(n: int, seed: int = 0) -> list[dict]:
    """Answers as an R1-Zero policy writes them: bare or in dollars inside <answer>, never boxed."""
    math500 = _rows("math500.jsonl")
    rng = random.Random(seed + 1)
    items = []
    for k in range(n):
        i = k % len(math500)
        own = k % 2 == 0
        written = math500[i]["answer"] if own else _other(math500, i, rng)["answer"]
        answer = f"${written}$" if k % 4 < 2 else written
        items.append({"id": f"unboxed-{k}", "completion": f"{THINK}<answer>{answer}</answer>",
                      "answer": math500[i]["answer"], "truth": own})
    return items


def peer_batch() -> list[dict]:
    """The peer suites; a case whose label needs a non-default setting has no known verdict here."""
    from bench.peer_math import accuracy_options, load, truth
    return [{"id": c["id"], "completion": c["pred"], "answer": c["gold"],
             "truth": None if accuracy_options(c) else truth(c)} for c in load()]


def plain_loop(items: list[dict]) -> tuple[float, list[bool]]:
    """(a) parse and verify in one process, math-verify's defaults."""
    from math_verify import parse, verify
    started = time.perf_counter()
    verdicts = [bool(verify(parse(item["answer"]), parse(item["completion"]))) for item in items]
    return time.perf_counter() - started, verdicts


def through_service(url: str, items: list[dict], chunk: int = 250) -> tuple[float, list]:
    rows = [{k: v for k, v in item.items() if k != "truth"} for item in items]
    with RewardClient(url, max_batch=chunk, timeout=600) as client:
        started = time.perf_counter()
        chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
        with ThreadPoolExecutor(len(chunks)) as pool:  # several trainer ranks posting at once
            results = [r for part in pool.map(lambda c: client.score(c, "accuracy"), chunks) for r in part]
        return time.perf_counter() - started, results


def verdict_check(items: list[dict], plain: list[bool], results: list) -> dict[str, Any]:
    known = [(item, p, r.components.get("accuracy") == 1.0) for item, p, r in zip(items, plain, results, strict=True)
             if item["truth"] is not None]
    lost = [(item["id"], item["answer"][:40]) for item, p, ours in known if p == item["truth"] != ours]
    return {"known": len(known), "mv right": sum(p == item["truth"] for item, p, _ in known),
            "ours right": sum(ours == item["truth"] for item, _, ours in known), "lost": lost,
            "gained": sum(ours == item["truth"] != p for item, p, ours in known)}


def timeout_probe(url: str, limit: float, workers: int) -> dict[str, float]:
    """Pathological items interleaved with normal ones, ``workers`` requests in flight (no queueing)."""
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


def measure(name: str, items: list[dict], env: dict[str, str], probe: Callable[[str], Any] | None) -> dict:
    """One batch on a fresh service: (a), (b), (c) and the verdict check; the probe after, if given."""
    proc, url = start_service(env)
    try:
        through_service(url, [{"id": f"w{i}", "completion": "\\boxed{4}", "answer": str(i)} for i in range(20)])
        t_plain, plain = plain_loop(items)
        t_cold, results = through_service(url, items)
        warm = [through_service(url, items) for _ in range(CACHED_REPEATS)]  # ~0.1 s each: the median of 5
        t_warm = statistics.median(t for t, _ in warm)
        assert all([r.reward for r in results] == [r.reward for r in again] for _, again in warm)
        probed = probe(url) if probe else None
    finally:
        proc.terminate()
        proc.wait()
    n = len(items)
    check = verdict_check(items, plain, results)
    return {"batch": name, "items": n, "(a) items/s": n / t_plain, "(b) items/s": n / t_cold,
            "b/a": t_plain / t_cold, "(c) items/s": n / t_warm, "c/a": t_plain / t_warm,
            "known": check["known"], "mv right": check["mv right"], "ours right": check["ours right"],
            "lost": len(check["lost"]), "gained": check["gained"], "_lost": check["lost"], "_probe": probed,
            "_statuses": {s: sum(r.status == s for r in results) for s in ("ok", "invalid", "timeout", "error")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0, help="the service's per-item limit")
    args = parser.parse_args()
    if not SHARED_DATA.exists():
        raise SystemExit(f"needs the public data at {SHARED_DATA}")
    env = {"REWARD_WORKERS": str(args.workers), "REWARD_ITEM_TIMEOUT_S": str(args.timeout)}
    rows = [measure("real", real_batch(args.items), env, None),
            measure("unboxed", unboxed_batch(args.items), env, None),
            measure("(d) peer", peer_batch(), env, lambda url: timeout_probe(url, args.timeout, args.workers))]
    print_table([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    for r in rows:
        print(f"{r['batch']}: statuses (b) {r['_statuses']}; lost where math-verify is right: {r['_lost'] or 'none'}")
    probe = rows[-1]["_probe"]
    ok = probe["slowest_s"] <= probe["limit_s"] + 0.5
    print(f"timeout probe: {probe['timed_out']}/{probe['pathological']} pathological items timed out; slowest "
          f"answer {probe['slowest_s']:.2f} s for a {probe['limit_s']:.1f} s limit "
          f"({'within' if ok else 'OVER'} limit + 0.5 s); slowest normal item beside them "
          f"{probe['slowest_normal_s']:.2f} s")
    print("targets: (b) >= 1.5x (a): " + ", ".join(f"{r['batch']} {r['b/a'] >= 1.5}" for r in rows)
          + "; (c) >= 20x: " + ", ".join(f"{r['batch']} {r['c/a'] >= 20}" for r in rows)
          + "; lost = 0: " + ", ".join(f"{r['batch']} {r['lost'] == 0}" for r in rows))


if __name__ == "__main__":
    main()
