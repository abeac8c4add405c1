"""The sandbox as a tool (issue 18): ``/run_code`` against SandboxFusion run beside it, and session calls.

(1) ``/run_code``, SandboxFusion's own load client (``../shared/bench/sandboxfusion/sf_bench.py``: a Python
mix of print-and-exit, sum stdin, a 50 ms CPU loop; every answer checked) against (a) SandboxFusion in its
default mode (isolation none: code runs as the server's user, no namespaces) and (b) this service with its
full sandbox, the key sent as the HTTP Basic password as verl and SandboxFusion's client send it; at 1, 8
and 32 clients. Targets: (b) >= 3x (a)'s requests/s at 8 clients, (b) p50 <= 25 ms at 1 client.
(2) A session call (``x = x + 1``): p50 / p99 of sequential calls (target p50 <= 10 ms); then 64 sessions
running at once, and ``/healthz`` timed meanwhile (the service's other endpoints stay responsive).
(3) Output past the bound: 2 MiB of stdout from each server: what it says (SandboxFusion answers Success
with the output cut, or hangs; we answer with ``truncated`` and the full size).

    python -m bench.tool_throughput [--n 200] [--backend docker] [--sessions 64] [--skip-sandboxfusion]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

import httpx

from bench._common import ROOT, free_port, print_table, start_service

SF = ROOT.parent / "shared" / "bench" / "sandboxfusion"
KEY = "bench-key"
CONCURRENCY = (1, 8, 32)
BIG = "import sys\nsys.stdout.write('x' * (2 << 20))\n"  # twice our bound (1 MiB, code grading's)


def sf_bench(url: str, n: int, concurrency: int, api_key: str | None = None) -> dict:
    """One run of SandboxFusion's load client; its JSON line."""
    argv = [sys.executable, str(SF / "sf_bench.py"), url, "-n", str(n), "-c", str(concurrency)]
    done = subprocess.run(argv + (["--api-key", api_key] if api_key else []), capture_output=True, text=True,
                          timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"sf_bench printed nothing (exit {done.returncode}): {done.stderr[-500:]}")
    return json.loads(lines[-1])


def start_sandboxfusion() -> tuple[str, str]:
    """(URL, PID) of SandboxFusion on a free port (setup.sh makes its venv once)."""
    subprocess.run(["bash", str(SF / "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    pid = subprocess.run(["bash", str(SF / "run.sh"), str(port)], check=True, capture_output=True,
                         text=True).stdout.strip()
    return f"http://127.0.0.1:{port}", pid


def big_output(url: str, auth: tuple[str, str] | None) -> str:
    """What a server answers for 2 MiB of stdout, in a few words."""
    try:
        r = httpx.post(url + "/run_code", json={"code": BIG, "language": "python", "run_timeout": 10},
                       auth=auth, timeout=30)
    except httpx.TimeoutException:
        return "no answer in 30 s"
    doc = r.json()
    run = doc.get("run_result") or {}
    said = f"{doc.get('status')}, stdout {len(run.get('stdout') or '')} of {2 << 20} bytes"
    if run.get("truncated"):
        said += f", truncated (full size {run.get('stdout_bytes')})"
    return said


def session_calls(url: str, n: int) -> tuple[float, float]:
    """p50, p99 ms of ``x = x + 1`` in one session, sequential."""
    with httpx.Client(base_url=url, auth=("x", KEY), timeout=60) as client:
        sid = client.post("/sessions", json={"language": "python"}).json()["session_id"]
        client.post(f"/sessions/{sid}/run", json={"code": "x = 0"})
        times = []
        for _ in range(n):
            started = time.perf_counter()
            r = client.post(f"/sessions/{sid}/run", json={"code": "x = x + 1"})
            times.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200 and r.json()["status"] == "Finished", r.text
        assert client.post(f"/sessions/{sid}/run", json={"code": "x"}).json()["display"] == [{"text/plain": str(n)}]
        client.delete(f"/sessions/{sid}")
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def many_sessions(url: str, sessions: int, calls: int) -> dict[str, object]:
    """``sessions`` sessions each running ``calls`` cells of ~20 ms CPU at once; /healthz timed meanwhile."""
    results: list[bool] = []
    health: list[float] = []
    stop = threading.Event()

    def one() -> None:
        with httpx.Client(base_url=url, auth=("x", KEY), timeout=120) as client:
            r = client.post("/sessions", json={"language": "python"})
            if r.status_code != 201:
                results.append(False)
                return
            sid = r.json()["session_id"]
            ok = True
            for i in range(calls):
                cell = f"import time\nt = time.process_time()\nwhile time.process_time() - t < 0.02:\n    pass\ny = {i}"
                ok &= client.post(f"/sessions/{sid}/run", json={"code": cell}).json().get("status") == "Finished"
            client.delete(f"/sessions/{sid}")
            results.append(ok)

    def probe() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            httpx.get(url + "/healthz", timeout=60)
            health.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)

    threads = [threading.Thread(target=one) for _ in range(sessions)]
    prober = threading.Thread(target=probe)
    started = time.perf_counter()
    prober.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    prober.join()
    health.sort()
    return {"sessions": sessions, "cells each": calls, "all finished": sum(results) == sessions,
            "wall s": round(time.perf_counter() - started, 2), "/healthz p50 ms": round(statistics.median(health), 1),
            "/healthz max ms": round(health[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200, help="requests per /run_code row")
    parser.add_argument("--backend", default="docker", help="our sandbox backend")
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--session-calls", type=int, default=200)
    parser.add_argument("--skip-sandboxfusion", action="store_true")
    args = parser.parse_args()

    proc, ours = start_service({"REWARD_API_KEYS": KEY, "REWARD_SANDBOX_BACKEND": args.backend,
                                "REWARD_SESSIONS_MAX": str(max(args.sessions, 64)),
                                "REWARD_SESSIONS_PER_KEY": str(max(args.sessions, 64))})
    sf_url, sf_pid = (None, None) if args.skip_sandboxfusion else start_sandboxfusion()
    try:
        rows = []
        for c in CONCURRENCY:  # the two servers in turn at each level: the same machine state for both
            for url in (sf_url, ours.replace("http://", f"http://x:{KEY}@")):  # unmeasured: warm at this level
                if url:
                    sf_bench(url, 2 * c, c)
            theirs = sf_bench(sf_url, args.n, c) if sf_url else None
            mine = sf_bench(ours.replace("http://", f"http://x:{KEY}@"), args.n, c)
            rows.append({"clients": c, "SandboxFusion req/s": theirs["req_per_s"] if theirs else "-",
                         "SF p50 ms": theirs["p50_ms"] if theirs else "-",
                         "SF p99 ms": theirs["p99_ms"] if theirs else "-",
                         f"ours ({args.backend}) req/s": mine["req_per_s"], "p50 ms": mine["p50_ms"],
                         "p99 ms": mine["p99_ms"], "ok": f"{mine['ok']}/{args.n}",
                         "x SF": round(mine["req_per_s"] / theirs["req_per_s"], 2) if theirs else "-"})
        print("/run_code, Python mix (sf_bench.py):")
        print_table(rows)
        p50, p99 = session_calls(ours, args.session_calls)
        print(f"\nsession call x = x + 1 ({args.session_calls} sequential): p50 {p50:.1f} ms, p99 {p99:.1f} ms "
              "(target p50 <= 10 ms)")
        print()
        print_table([many_sessions(ours, args.sessions, 5)])
        print("\n2 MiB of stdout:")
        print(f"  SandboxFusion: {big_output(sf_url, None) if sf_url else '-'}")
        print(f"  ours:          {big_output(ours, ('x', KEY))}")
        eight = next(r for r in rows if r["clients"] == 8)
        one = next(r for r in rows if r["clients"] == 1)
        if sf_url:
            print(f"\n>= 3x SandboxFusion at 8 clients: {eight['x SF']}x {eight['x SF'] >= 3}")
        print(f"p50 <= 25 ms at 1 client: {one['p50 ms']} ms {one['p50 ms'] <= 25}")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if sf_pid:
            subprocess.run(["kill", sf_pid], check=False)


if __name__ == "__main__":
    main()
