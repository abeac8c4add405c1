"""Shared by the benchmarks: the public data folder, a service subprocess, a table printer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(env: dict[str, str], args: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m reward_service serve`` on a free loopback port; returns (process, base URL) once ready."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "reward_service", "serve", "--port", str(port),
                             "--log-level", "warning", *(args or [])],
                            env={**os.environ, **env}, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("service did not start")


def print_table(rows: list[dict[str, object]]) -> None:
    columns = list(rows[0])
    cells = [[f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
