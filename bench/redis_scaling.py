"""How far one Redis goes: what the queue costs Redis per item when grading costs almost nothing.

    python -m bench.redis_scaling [--workers 1,2,4,8] [--graders-per-worker 1] [--duration 6] [--clients 4]
                                  [--batch 256]

Items are task ``none`` under a format-only recipe (``{"format": {"weight": 1}}``): the cheapest real path, still a grader-pool
job per item, so Redis and the hops around it are as large a share of the work as they can be. The
completions are real model outputs (``math_cot_100``, MATH-500 solutions: 0.3-4 KB), so the bytes are a
math item's. Each row is a private ``redis-server`` (AOF on, as compose runs it), the API, and W queue
workers of ``--graders-per-worker`` grader processes, driven by ``--clients`` threads posting batches back
to back for ``--duration`` s (result caches off, every item unique). Baseline in the same run: the embedded
queue (no Redis) with as many graders as the machine has cores.

Measured from Redis itself, INFO before and after the load (the INFO calls themselves left out):
commands per item and per chunk (commands run inside our Lua scripts included: Redis counts them),
bytes in and out per item, Redis CPU (``used_cpu_*_main_thread``: the thread that runs every command) as a
share of one core and per item. ``ceiling items/s`` = items/s ÷ that share: what one Redis core would
coordinate if only Redis were the limit. An idle window before the load gives what a live worker costs
Redis with nothing to do (heartbeats, blocking reads, take-over scans). A per-command table for the
largest row says where Redis's time goes (a script's time includes the commands it runs).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

from bench._common import print_table
from bench.load import embedded, redis_queue
from bench.math_throughput import real_batch
from reward_service.client import RewardClient

RECIPE = {"name": "format-only", "components": {"format": {"weight": 1.0}}}
CHUNK = 32  # the service default (REWARD_CHUNK_SIZE); the bench does not change it
IDLE_S = 2.0


@dataclass(frozen=True)
class Sample:
    """One INFO snapshot: per-command calls and usec, totals, bytes, main-thread CPU seconds."""

    calls: dict[str, int]
    usec: dict[str, int]
    net_in: int
    net_out: int
    cpu: float
    at: float

    @classmethod
    def take(cls, client: redis.Redis) -> Sample:
        stats: dict[str, Any] = {**client.info("stats"), **client.info("cpu")}
        commands = client.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in commands.items()}
        usec = {name.removeprefix("cmdstat_"): int(v["usec"]) for name, v in commands.items()}
        return cls(calls, usec, int(stats["total_net_input_bytes"]), int(stats["total_net_output_bytes"]),
                   float(stats["used_cpu_sys_main_thread"]) + float(stats["used_cpu_user_main_thread"]),
                   time.monotonic())

    def since(self, before: Sample) -> Delta:
        calls = {c: n - before.calls.get(c, 0) for c, n in self.calls.items() if not c.startswith("info")}
        usec = {c: n - before.usec.get(c, 0) for c, n in self.usec.items() if not c.startswith("info")}
        return Delta({c: n for c, n in calls.items() if n}, usec, self.net_in - before.net_in,
                     self.net_out - before.net_out, self.cpu - before.cpu, self.at - before.at)


@dataclass(frozen=True)
class Delta:
    calls: dict[str, int]
    usec: dict[str, int]
    net_in: int
    net_out: int
    cpu: float
    wall: float


def items_pool(batch: int) -> list[list[dict]]:
    """64 batches of real completions as format-only items (no reference: task ``none`` needs none)."""
    pool = [{"id": item["id"], "completion": item["completion"], "task": "none"} for item in real_batch(10_000)]
    batches = [[{**item, "id": f"{b}-{j}"} for j, item in enumerate(pool[b * 37 % len(pool):][:batch])]
               for b in range(64)]
    return [b for b in batches if len(b) == batch]


def drive(url: str, batches: list[list[dict]], clients: int, duration: float) -> tuple[int, int, float]:
    """Post batches back to back from ``clients`` threads for ``duration`` s: (items, batches, wall s).
    Every item must come back ok with its id."""
    sent, posted, lock, failures = 0, 0, threading.Lock(), []
    stop_at = time.monotonic() + duration
    counter = itertools.count()

    def loop(n: int) -> None:
        nonlocal sent, posted
        with RewardClient(url, timeout=600, retries=10, max_batch=100_000) as client:
            while time.monotonic() < stop_at and not failures:
                i = next(counter)
                batch = [{**item, "completion": f"Attempt {n}.{i}.\n{item['completion']}"}
                         for item in batches[i % len(batches)]]
                try:
                    results = client.score(batch, recipe=RECIPE)
                except Exception as exc:
                    failures.append(repr(exc))
                    return
                bad = [r for r, b in zip(results, batch, strict=True) if r.id != b["id"] or r.status.value != "ok"]
                with lock:
                    sent, posted = sent + len(batch), posted + 1
                    failures.extend(f"{r.id}: {r.status.value} {r.error}" for r in bad[:3])

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit("items lost or not ok: " + "; ".join(failures[:3]))
    return sent, posted, time.perf_counter() - started


def measure(workers: int, graders: int, batches: list[list[dict]], args: argparse.Namespace) -> tuple[dict, Delta]:
    """One row: a fresh Redis, API and ``workers`` workers; idle window, warm-up, then the measured load."""
    with redis_queue(workers * graders, workers) as (url, group):
        client = redis.Redis.from_url(group.args[group.args.index("--redis-url") + 1], socket_timeout=10)
        drive(url, batches[:1], 1, 0.0)  # warm-up: one batch
        before_idle = Sample.take(client)
        time.sleep(IDLE_S)
        idle = Sample.take(client).since(before_idle)
        before = Sample.take(client)
        items, posted, wall = drive(url, batches, args.clients, args.duration)
        load = Sample.take(client).since(before)
        client.close()
    chunks = posted * math.ceil(args.batch / CHUNK)
    share = load.cpu / load.wall
    commands = sum(load.calls.values())
    row = {"workers": workers, "graders": workers * graders, "items": items, "items/s": items / wall,
           "cmds/item": commands / items, "cmds/chunk": commands / chunks,
           "in B/item": load.net_in / items, "out B/item": load.net_out / items,
           "Redis CPU %": 100 * share, "CPU us/item": 1e6 * load.cpu / items,
           "ceiling items/s": items / wall / share if share else float("inf"),
           "idle cmds/s/worker": sum(idle.calls.values()) / idle.wall / workers,
           "idle CPU %/worker": 100 * idle.cpu / idle.wall / workers}
    return row, load


def breakdown(load: Delta, chunks: int) -> list[dict[str, object]]:
    """Where Redis's command time goes, per chunk, largest first. A script's (evalsha) time includes the
    commands it runs, which are listed too: the column does not add up to the CPU."""
    rows = [{"command": c, "calls/chunk": n / chunks, "us/call": load.usec.get(c, 0) / n,
             "us/chunk": load.usec.get(c, 0) / chunks} for c, n in load.calls.items()]
    return sorted(rows, key=lambda r: -float(r["us/chunk"]))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,8", help="worker processes per row, comma-separated")
    parser.add_argument("--graders-per-worker", type=int, default=1)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of load per row")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    batches = items_pool(args.batch)
    cores = os.cpu_count() or 2

    with embedded(cores) as url:
        drive(url, batches[:1], 1, 0.0)
        items, _, wall = drive(url, batches, args.clients, args.duration)
    base = items / wall
    print(f"embedded ({cores} graders): {base:.0f} items/s", file=sys.stderr)
    rows, last = [], None
    for workers in counts:
        row, load = measure(workers, args.graders_per_worker, batches, args)
        rows.append({**row, "x embedded": row["items/s"] / base})
        last = (load, math.ceil(args.batch / CHUNK) * (row["items"] // args.batch))
        print(f"{workers} workers: done", file=sys.stderr)

    print(f"\n{args.batch} format-only items a batch (task none, real completions), chunks of {CHUNK}, "
          f"{args.clients} clients, {args.duration:g} s a row, caches off; embedded baseline "
          f"({cores} graders, no Redis): {base:.0f} items/s\n")
    print_table(rows)
    if last is not None:
        print(f"\nRedis's command time per chunk, {counts[-1]} workers:\n")
        print_table(breakdown(*last))
    best = min(r["CPU us/item"] for r in rows)
    print(f"\nOne Redis core at 100 %: ~{1e6 / best:,.0f} items/s at the cheapest measured "
          f"{best:.1f} us of Redis CPU per item (ceiling column: per row, background included)")


if __name__ == "__main__":
    main()
