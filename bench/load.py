"""Sustained load: the Redis queue (2 workers) vs the embedded queue, on the same batches, on loopback.

    python -m bench.load [--duration 60] [--clients 4] [--batch 256] [--graders N] [--queue-workers 2]
                         [--only embedded|redis|faults]

Several clients (threads, as trainer ranks would) post /score batches of real math items back to back for
``--duration`` seconds against each deployment in turn, with the same total grader processes: embedded
(``serve --workers N``) and Redis (a private redis-server with AOF, ``--queue-workers`` workers sharing the N
graders, the API). Result caches are off and each sent item is made unique (a first line naming the send), so
every item is graded. Prints items/s, p50/p99/max batch latency,
items lost (sent but not answered with their id; must be 0), items not ok (status timeout/invalid/error:
the data has a few), items ``error`` (what a lost worker would cost; must be 0), and the Redis path's
overhead.

The third row, ``redis + faults``, is the Redis run again while workers fail: a third of the way in one
worker is SIGKILLed (its chunks are taken over after ``REWARD_VISIBILITY_TIMEOUT_S``), two thirds in
another is SIGTERMed (it finishes what it started and hands back the rest); both are restarted, as
compose's restart policy would. Nothing may be lost and nothing answered ``error``; its p99 shows what the
kill costs.
Bounded: ``--max-batches`` per client, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench._common import ROOT, free_port, print_table, start_service
from bench.math_throughput import real_batch
from reward_service.client import RewardClient

NO_CACHES = {"REWARD_CACHE_MAX_MB": "0", "REWARD_SHARED_CACHE_TTL_S": "0", "REWARD_SANDBOX_BACKEND": "none",
             "REWARD_LOG_LEVEL": "warning"}


@contextmanager
def embedded(graders: int) -> Iterator[str]:
    proc, url = start_service({**NO_CACHES, "REWARD_WORKERS": str(graders)})
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


class Workers:
    """Queue worker processes, restarted when they exit (compose's restart policy)."""

    def __init__(self, redis_url: str, env: dict[str, str], count: int) -> None:
        self.args = [sys.executable, "-m", "reward_service", "worker", "--redis-url", redis_url]
        self.env = env
        self.procs = [self._start() for _ in range(count)]
        self.exits: list[int] = []
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._supervise, daemon=True)
        self._watch.start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.args, env=self.env, cwd=ROOT)

    def _supervise(self) -> None:
        while not self._stop.wait(0.2):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None:
                    self.exits.append(proc.returncode)
                    self.procs[i] = self._start()

    def signal(self, index: int, sig: int) -> None:
        self.procs[index].send_signal(sig)

    def stop(self) -> None:
        self._stop.set()
        self._watch.join()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(200)


@contextmanager
def redis_queue(graders: int, workers: int) -> Iterator[tuple[str, Workers]]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "yes", "--dir", tmp], stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        env = {**os.environ, **NO_CACHES, "REWARD_WORKERS": str(max(1, graders // workers))}
        group = Workers(redis_url, env, workers)
        api = None
        try:
            time.sleep(0.5)
            api, url = start_service({**NO_CACHES}, ["--redis-url", redis_url])
            import httpx
            while httpx.get(url + "/readyz", timeout=5).json().get("workers", 0) < workers:
                time.sleep(0.2)
            yield url, group
        finally:
            if api:
                api.terminate()
                api.wait(30)
            group.stop()
            redis.terminate()
            redis.wait(30)


def inject_faults(workers: Workers, duration: float, log: list[str]) -> threading.Thread:
    """SIGKILL worker 0 a third of the way in, SIGTERM worker 1 at two thirds (both come back)."""
    def run() -> None:
        started = time.monotonic()
        for at, index, sig in ((duration / 3, 0, signal.SIGKILL), (2 * duration / 3, 1, signal.SIGTERM)):
            time.sleep(max(0.0, started + at - time.monotonic()))
            workers.signal(index % len(workers.procs), sig)
            log.append(f"{signal.Signals(sig).name} to worker {index} at {time.monotonic() - started:.0f} s")
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def drive(url: str, batches: list[list[dict]], clients: int, duration: float, max_batches: int) -> dict:
    latencies: list[float] = []
    sent = answered = errors = failed = reused = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client_loop(n: int) -> None:
        nonlocal sent, answered, errors, failed, reused
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
                    failed += sum(1 for r in results if r.status.value == "error")
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
            "max s": max(latencies, default=0.0),
            "lost": sent - answered, "not ok": errors, "error": failed,
            "verdict reused": f"{reused / max(1, sent):.0%}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per deployment")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--graders", type=int, default=os.cpu_count() or 2, help="grader processes in total")
    parser.add_argument("--queue-workers", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=2000, help="per client, whatever the duration")
    parser.add_argument("--only", choices=["embedded", "redis", "faults"])
    args = parser.parse_args()

    pool = [{k: v for k, v in item.items() if k != "truth"} for item in real_batch(10_000)]
    batches = [[{**item, "id": f"{b}-{j}"} for j, item in enumerate(pool[b * 37 % len(pool):][:args.batch])]
               for b in range(64)]
    batches = [b for b in batches if len(b) == args.batch]
    rows, faults = [], []
    for name in ("embedded", "redis", "faults"):
        if args.only and args.only != name:
            continue
        if name == "embedded":
            with embedded(args.graders) as url:
                drive(url, batches[:2], 1, 1e9, 1)  # warm-up: one batch
                row = drive(url, batches, args.clients, args.duration, args.max_batches)
        else:
            with redis_queue(args.graders, args.queue_workers) as (url, workers):
                drive(url, batches[:2], 1, 1e9, 1)
                if name == "faults":
                    inject_faults(workers, args.duration, faults)
                row = drive(url, batches, args.clients, args.duration, args.max_batches)
        label = {"embedded": "embedded", "redis": f"redis ({args.queue_workers} workers)",
                 "faults": "redis + faults"}[name]
        rows.append({"path": label, **row})
        print(f"{name}: done", file=sys.stderr)
    print(f"\nbatch {args.batch} math items, {args.clients} clients, {args.duration:g} s each, "
          f"{args.graders} graders in total, caches off\n")
    print_table(rows)
    if faults:
        print("\nfaults: " + "; ".join(faults) + " (visibility timeout: the service default unless "
              "REWARD_VISIBILITY_TIMEOUT_S is set)")
    paths = [r["path"] for r in rows]
    if "embedded" in paths and f"redis ({args.queue_workers} workers)" in paths:
        overhead = 1 - rows[1]["items/s"] / rows[0]["items/s"]
        print(f"\nRedis path throughput overhead: {overhead:+.1%} (target <= 15%)")
    if any(r["lost"] for r in rows):
        raise SystemExit("items were lost")
    if faults and rows[-1]["error"]:
        raise SystemExit("worker faults turned items into errors")


if __name__ == "__main__":
    main()
