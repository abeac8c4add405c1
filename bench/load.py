"""Sustained load: the Redis queue (2 workers) vs the embedded queue, on the same batches, on loopback.

    python -m bench.load [--duration 60] [--clients 4] [--batch 256] [--graders N] [--queue-workers 2]

Several clients (threads, as trainer ranks would) post /score batches of real math items back to back for
``--duration`` seconds against each deployment in turn, with the same total grader processes: embedded
(``serve --workers N``) and Redis (a private redis-server with AOF, ``--queue-workers`` workers sharing the N
graders, the API). Result caches are off and each sent item is made unique (a first line naming the send), so
every item is graded. Prints items/s, p50/p99 batch latency,
items lost (sent but not answered with their id; must be 0), items not ok (status timeout/invalid/error:
the data has a few), and the Redis path's overhead.
Bounded: ``--max-batches`` per client, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench._common import ROOT, free_port, print_table, start_service
from bench.math_throughput import load_batch
from reward_service.client import RewardClient

NO_CACHES = {"REWARD_CACHE_SIZE": "0", "REWARD_SHARED_CACHE_TTL_S": "0", "REWARD_SANDBOX_BACKEND": "none",
             "REWARD_LOG_LEVEL": "warning"}


@contextmanager
def embedded(graders: int) -> Iterator[str]:
    proc, url = start_service({**NO_CACHES, "REWARD_WORKERS": str(graders)})
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def redis_queue(graders: int, workers: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "yes", "--dir", tmp], stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        env = {**os.environ, **NO_CACHES, "REWARD_WORKERS": str(max(1, graders // workers))}
        procs = [subprocess.Popen([sys.executable, "-m", "reward_service", "worker", "--redis-url", redis_url],
                                  env=env, cwd=ROOT) for _ in range(workers)]
        api = None
        try:
            time.sleep(0.5)
            api, url = start_service({**NO_CACHES}, ["--redis-url", redis_url])
            import httpx
            while httpx.get(url + "/readyz", timeout=5).json().get("workers", 0) < workers:
                time.sleep(0.2)
            yield url
        finally:
            for proc in [*([api] if api else []), *procs]:
                proc.terminate()
            for proc in [*([api] if api else []), *procs]:
                proc.wait(30)
            redis.terminate()
            redis.wait(30)


def drive(url: str, batches: list[list[dict]], clients: int, duration: float, max_batches: int) -> dict:
    latencies: list[float] = []
    sent = answered = errors = reused = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client_loop(n: int) -> None:
        nonlocal sent, answered, errors, reused
        with RewardClient(url, timeout=600, retries=10, max_batch=100_000) as client:
            for i in range(max_batches):
                if time.monotonic() >= stop_at:
                    return
                # A fresh first line per send: no two items in flight are identical, so neither path can
                # answer one from another in flight (real GRPO samples differ in their full text too).
                batch = [{**item, "completion": f"Attempt {n}.{i}.\n{item['completion']}"}
                         for item in batches[(n + i * clients) % len(batches)]]
                started = time.perf_counter()
                results = client.score(batch, recipe="accuracy")
                elapsed = time.perf_counter() - started
                ids = [r.id for r in results]
                with lock:
                    latencies.append(elapsed)
                    sent += len(batch)
                    answered += sum(1 for a, b in zip(ids, batch, strict=False) if a == b["id"])
                    errors += sum(1 for r in results if r.status.value != "ok")
                    reused += sum(1 for r in results if (r.details.get("timings") or {}).get("accuracy_cached"))

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"batches": len(latencies), "items": sent, "items/s": sent / wall, "p50 s": cuts[49], "p99 s": cuts[98],
            "lost": sent - answered, "not ok": errors,
            "verdict reused": f"{reused / max(1, sent):.0%}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per deployment")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--graders", type=int, default=os.cpu_count() or 2, help="grader processes in total")
    parser.add_argument("--queue-workers", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=2000, help="per client, whatever the duration")
    parser.add_argument("--only", choices=["embedded", "redis"])
    args = parser.parse_args()

    pool = load_batch(10_000)
    batches = [[{**item, "id": f"{b}-{j}"} for j, item in enumerate(pool[b * 37 % len(pool):][:args.batch])]
               for b in range(64)]
    batches = [b for b in batches if len(b) == args.batch]
    rows = []
    for name in ("embedded", "redis"):
        if args.only and args.only != name:
            continue
        deploy = embedded(args.graders) if name == "embedded" else redis_queue(args.graders, args.queue_workers)
        with deploy as url:
            drive(url, batches[:2], 1, 0.0 + 1e9, 1)  # warm-up: one batch
            row = drive(url, batches, args.clients, args.duration, args.max_batches)
        rows.append({"path": name if name == "embedded" else f"redis ({args.queue_workers} workers)", **row})
        print(f"{name}: done", file=sys.stderr)
    print(f"\nbatch {args.batch} math items, {args.clients} clients, {args.duration:g} s each, "
          f"{args.graders} graders in total, caches off\n")
    print_table(rows)
    if len(rows) == 2:
        overhead = 1 - rows[1]["items/s"] / rows[0]["items/s"]
        print(f"\nRedis path throughput overhead: {overhead:+.1%} (target <= 15%)")
    if any(r["lost"] for r in rows):
        raise SystemExit("items were lost")


if __name__ == "__main__":
    main()
