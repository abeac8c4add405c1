"""Sandbox throughput: the same submissions judged bare, by naive `docker run`, and by our two backends.

    python -m bench.sandbox_throughput [--python 200] [--cpp 50] [--naive N]

Python: LeetCode-style two-sum (`class Solution`, function-call tests), 10 tests each, 10 % of the
submissions wrong. C++: a stdin/stdout sum, 10 tests each, 10 % wrong. Every configuration judges every
submission in turn (one at a time, as one grader process does), all tests run (no early stop), and every
verdict is checked against the bare run:

(a) bare: unsandboxed subprocesses in a temp dir: compile, one ``subprocess.run`` per test, compare. The
    floor; it uses the host's real interpreter (PATH without pyenv shims, as the sandboxes have);
(b) naive: a fresh, equally locked-down ``docker run`` per submission with the same runner inside;
(c) ours, Docker: warm containers whose PID 1 is the runner; one session per submission;
(d) ours, bubblewrap: a fresh bwrap sandbox per submission.

(b) is slow by construction; ``--naive N`` times it on the first N submissions only (default: all).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench._common import print_table
from sandbox import Limits, Verdict, get_backend, get_language, judge, parse_tests
from sandbox.backends.base import PipeSession
from sandbox.judge import classify

PATH = "/usr/local/bin:/usr/bin:/bin"  # what programs get in the sandboxes (and no pyenv shim: 120 ms a start)

TWO_SUM = """
class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        seen_{tag} = {{}}
        for i, n in enumerate(nums):
            if target - n in seen_{tag}:
                return [seen_{tag}[target - n], i{bug}]
            seen_{tag}[n] = i
"""
SUM_CPP = """#include <iostream>
int main() {{ long long a, b, s_{tag} = 0; while (std::cin >> a >> b) s_{tag} += a + b; std::cout << s_{tag}{bug} << "\\n"; }}
"""


def python_suite(rng: random.Random):
    inputs, outputs = [], []
    for _ in range(10):
        while True:  # exactly one pair sums to the target, so the expected answer is the only right one
            nums = rng.sample(range(-1000, 1000), 20)
            i, j = sorted(rng.sample(range(20), 2))
            if sum(a + b == nums[i] + nums[j] for k, a in enumerate(nums) for b in nums[k + 1:]) == 1:
                break
        inputs.append(f"{json.dumps(nums)}\n{nums[i] + nums[j]}")
        outputs.append(json.dumps([i, j]))
    return parse_tests({"fn_name": "twoSum", "inputs": inputs, "outputs": outputs})


def cpp_suite(rng: random.Random):
    cases = []
    for _ in range(10):
        pairs = [(rng.randint(-10**9, 10**9), rng.randint(-10**9, 10**9)) for _ in range(5)]
        cases.append({"input": "\n".join(f"{a} {b}" for a, b in pairs), "output": str(sum(a + b for a, b in pairs))})
    return parse_tests(cases)


def submissions(language: str, n: int, seed: int = 0) -> list[tuple[str, object, object]]:
    rng = random.Random(seed)
    template, suite = (TWO_SUM, python_suite) if language == "python" else (SUM_CPP, cpp_suite)
    lang = get_language(language)
    return [(template.format(tag=k, bug=" + 1" if k % 10 == 9 else ""), lang, suite(rng)) for k in range(n)]


def bare(code: str, language, suite, limits: Limits) -> list[Verdict]:
    """(a): no sandbox, no runner: what grading costs without isolation."""
    program = language.program(code, suite.fn_name)
    with tempfile.TemporaryDirectory() as work:
        for name, text in program.files.items():
            Path(work, name).write_text(text)
        result = Path(work, ".result.json")
        env = {"PATH": PATH, "HOME": work, "LANG": "C.UTF-8", "SANDBOX_RESULT": str(result)}
        if program.compile:
            built = subprocess.run(program.compile, cwd=work, env=env, capture_output=True, timeout=60)
            if built.returncode:
                return [Verdict.compile_error] * len(suite.cases)
        verdicts = []
        for case in suite.cases:
            started = time.monotonic()
            try:
                done = subprocess.run(program.run, input=case.stdin, cwd=work, env=env, capture_output=True,
                                      text=True, timeout=limits.time_s)
                run = {"stdout": done.stdout, "stderr": done.stderr, "exit": done.returncode,
                       "result": result.read_text() if result.exists() else None}
            except subprocess.TimeoutExpired:
                run = {"timed_out": True}
            run["time_s"] = time.monotonic() - started
            verdicts.append(classify(run, case, suite.fn_name is not None, None).verdict)
        return verdicts


class NaiveDocker:
    """(b): a new container per submission, locked down like ours, with the same runner as its PID 1."""

    name = "naive-docker"
    address_space_rlimit = False
    nproc_rlimit = False
    workdir_base = "/work"
    sweep = None

    def __init__(self, image: str) -> None:
        self.image = image

    def session(self, limits: Limits) -> PipeSession:
        memory = f"{limits.memory_mb + 64}m"
        return PipeSession([
            "docker", "run", "--rm", "-i", "--network", "none", "--read-only", "--user", "10001:10001",
            "--tmpfs", f"/work:rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777",
            "--tmpfs", "/tmp:rw,nosuid,nodev,size=1m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", memory, "--memory-swap", memory, "--pids-limit", str(limits.pids),
            "--cpus", str(limits.cpus), "--ipc", "private", self.image])

    def close(self) -> None:
        pass


def measure(config: str, subs, judge_one) -> tuple[dict[str, object], list[list[Verdict]]]:
    latencies, verdicts = [], []
    started = time.perf_counter()
    for sub in subs:
        t = time.perf_counter()
        verdicts.append(judge_one(*sub))
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    latencies.sort()
    row = {"config": config, "n": len(subs), "subs/s": len(subs) / total,
           "p50 ms": statistics.median(latencies) * 1000,
           "p99 ms": latencies[min(len(latencies) - 1, round(len(latencies) * 0.99) - 1)] * 1000}
    return row, verdicts


def bench(label: str, subs, limits: Limits, n_naive: int) -> list[dict[str, object]]:
    docker_backend, bwrap_backend = get_backend("docker"), get_backend("bwrap")
    naive = NaiveDocker(docker_backend.image)

    def ours(backend):
        return lambda code, lang, suite: [t.verdict for t in judge(code, lang, suite, backend, limits,
                                                                   stop_on_failure=False).tests]

    for backend in (docker_backend, bwrap_backend):  # warm-up: the first container, page cache
        ours(backend)(*subs[0])
    rows, results = [], []
    for config, fn, batch in (("(a) bare subprocesses", lambda *s: bare(*s, limits), subs),
                              ("(b) naive docker run", ours(naive), subs[:n_naive]),
                              ("(c) ours: docker", ours(docker_backend), subs),
                              ("(d) ours: bwrap", ours(bwrap_backend), subs)):
        row, verdicts = measure(config, batch, fn)
        rows.append(row)
        results.append(verdicts)
    for row, verdicts in zip(rows, results, strict=True):
        row["same verdicts"] = verdicts == results[0][:len(verdicts)]
    base, slow = rows[0]["subs/s"], rows[1]["subs/s"]
    for row in rows:
        row["x bare"] = row["subs/s"] / base
        row["x naive"] = row["subs/s"] / slow
    print(f"\n{label}: {len(subs)} submissions x {len(subs[0][2].cases)} tests "
          f"({sum(v == [Verdict.accepted] * len(v) for v in results[0])} all-accepted)")
    print_table(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", type=int, default=200, help="Python submissions (10 tests each)")
    parser.add_argument("--cpp", type=int, default=50, help="C++ submissions (10 tests each)")
    parser.add_argument("--naive", type=int, default=None, help="time (b) on the first N submissions only")
    args = parser.parse_args()
    limits = Limits()
    print(f"{os.cpu_count()} CPUs; sandbox image {get_backend('docker').image}; "
          f"bare python3 = {subprocess.getoutput(f'PATH={PATH} command -v python3')}")
    py = bench("python", submissions("python", args.python), limits, args.naive or args.python)
    cpp = bench("cpp", submissions("cpp", args.cpp), limits, args.naive or args.cpp)
    for label, rows in (("python", py), ("cpp", cpp)):
        print(f"{label} targets: docker >= 0.5x bare: {rows[2]['x bare'] >= 0.5}; docker >= 5x naive: "
              f"{rows[2]['x naive'] >= 5}; bwrap >= 0.7x bare: {rows[3]['x bare'] >= 0.7}")


if __name__ == "__main__":
    main()
