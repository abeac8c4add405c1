"""Past one Redis: the same load on 1, 2 and 4 Redis cells, and how far the fleet then goes.

    python -m bench.redis_cells [--cells 1,2,4] [--workers 4] [--duration 6] [--clients 4] [--batch 256]

The load of ``redis_scaling.py`` (format-only items of real completions, caches off, batches back to back)
through one API over C cells (``REWARD_REDIS_URL`` + ``REWARD_REDIS_SHARD_URLS``: a private ``redis-server``
each, AOF on), ``--workers`` workers of one grader dealt round-robin over the cells (``REWARD_WORKER_SHARD``).
Read from each Redis's INFO before and after: its share of the commands and its main-thread CPU. What one
Redis limits is its busiest core, so the fleet's ceiling is items/s ÷ the *busiest* cell's CPU share; the
ratio to the one-cell row, measured in the same run, is what the cells buy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import redis

from bench._common import free_port, print_table, start_service
from bench.load import NO_CACHES, Workers
from bench.redis_scaling import Sample, drive, items_pool


@contextmanager
def redis_server(directory: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--dir", directory], stdout=subprocess.DEVNULL)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def cells_stack(cells: int, workers: int) -> Iterator[tuple[str, list[str]]]:
    with ExitStack() as stack:
        urls = [stack.enter_context(redis_server(stack.enter_context(tempfile.TemporaryDirectory())))
                for _ in range(cells)]
        time.sleep(0.5)
        shards = {"REWARD_REDIS_SHARD_URLS": ",".join(urls[1:])} if cells > 1 else {}
        env = {**os.environ, **NO_CACHES, **shards, "REWARD_WORKERS": "1"}
        groups = [Workers(urls[0], {**env, "REWARD_WORKER_SHARD": str(i % cells)}, 1) for i in range(workers)]
        stack.callback(lambda: [g.stop() for g in groups])
        api, url = start_service({**NO_CACHES, **shards}, ["--redis-url", urls[0]])
        stack.callback(lambda: (api.terminate(), api.wait(30)))
        while httpx.get(url + "/readyz", timeout=5).json().get("workers", 0) < workers:
            time.sleep(0.2)
        yield url, urls


def measure(cells: int, batches: list[list[dict]], args: argparse.Namespace) -> dict[str, object]:
    with cells_stack(cells, args.workers) as (url, urls):
        clients = [redis.Redis.from_url(u, socket_timeout=10) for u in urls]
        drive(url, batches[:1], 1, 0.0)  # warm-up
        before = [Sample.take(c) for c in clients]
        items, _, wall = drive(url, batches, args.clients, args.duration)
        loads = [Sample.take(c).since(b) for c, b in zip(clients, before, strict=True)]
        for c in clients:
            c.close()
    commands = [sum(load.calls.values()) for load in loads]
    shares = [load.cpu / load.wall for load in loads]
    busiest = max(shares)
    return {"cells": cells, "items/s": items / wall,
            "cmds share per cell %": " / ".join(f"{100 * c / sum(commands):.0f}" for c in commands),
            "CPU % per cell": " / ".join(f"{100 * s:.1f}" for s in shares),
            "busiest cell CPU us/item": 1e6 * busiest * wall / items,
            "fleet ceiling items/s": items / wall / busiest if busiest else float("inf")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="1,2,4")
    parser.add_argument("--workers", type=int, default=4, help="workers in all, dealt round-robin over the cells")
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    batches = items_pool(args.batch)
    rows = [measure(int(c), batches, args) for c in args.cells.split(",")]
    base = float(rows[0]["fleet ceiling items/s"])  # type: ignore[arg-type]
    for row in rows:
        row["ceiling x 1 cell"] = float(row["fleet ceiling items/s"]) / base  # type: ignore[arg-type]
    print_table(rows)


if __name__ == "__main__":
    main()
