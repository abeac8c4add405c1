"""Sandbox throughput: the same submissions judged bare, by naive `docker run`, and by our two backends.

    python -m bench.sandbox_throughput [--n 200] [--n-compiled 20] [--naive N] [--groups 3] [--only cpp,go]

One row set per language that has a problem below and is registered in sandbox/languages (the others are
skipped with a note). Python: LeetCode-style two-sum (`class Solution`, function-call tests); every other
language: a stdin/stdout sum. 10 tests each, 10 % of the submissions wrong. Every configuration judges every
submission in turn (one at a time, as one grader process does), all tests run (no early stop), and every
verdict is checked against the bare run:

(a) bare: unsandboxed subprocesses in a temp dir: compile, one ``subprocess.run`` per test, compare. The
    floor; it uses the host's real toolchains (PATH without pyenv shims, as the sandboxes have);
(b) naive: a fresh, equally locked-down ``docker run`` per submission with the same runner inside, no
    compile cache;
(c) ours, Docker: warm containers whose PID 1 is the runner; one session per submission;
(d) ours, bubblewrap: a fresh bwrap sandbox per submission.

Every submission of (a)-(d) is a new program (the compile cache misses). Then C++ as GRPO groups judge
them: 16 samples of which only 4 are different programs, with the cache cold, then the same groups again
with it warm. Last, the per-test cost once compiled (cache warm): the time of a submission with 21 tests
minus that of one with 1 test, over 20.

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
from sandbox.backends.base import RUNNER_SHARE_MB, PipeSession
from sandbox.compare import same_text
from sandbox.kinds import kind_of
from sandbox.kinds.compared import call_judge, graded, text_judge

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
SUM_JAVA = r"""import java.io.*;
public class Main {{
    public static void main(String[] args) throws IOException {{
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        long s_{tag} = 0;
        for (String line; (line = in.readLine()) != null;)
            for (String t : line.trim().split("\\s+")) if (!t.isEmpty()) s_{tag} += Long.parseLong(t);
        System.out.println(s_{tag}{bug});
    }}
}}
"""
SUM_JS = r"""const s_{tag} = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean)
    .reduce((a, x) => a + BigInt(x), 0n);
console.log(String(s_{tag}{bug}));
"""
SUM_GO = """package main

import ("bufio"; "fmt"; "os")

func main() {{
	r := bufio.NewReader(os.Stdin)
	var a, b, s{tag} int64
	for {{
		if _, err := fmt.Fscan(r, &a, &b); err != nil {{ break }}
		s{tag} += a + b
	}}
	fmt.Println(s{tag}{bug})
}}
"""
SUM_RUST = """use std::io::Read;
fn main() {{
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).unwrap();
    let s_{tag}: i64 = text.split_whitespace().map(|x| x.parse::<i64>().unwrap()).sum();
    println!("{{}}", s_{tag}{bug});
}}
"""
# twoSum as Java and JavaScript function calls (a typed harness: the tests carry a signature)
TWO_SUM_JAVA = """
class Solution {{
    public int[] twoSum(int[] nums, int target) {{
        Map<Integer, Integer> seen_{tag} = new HashMap<>();
        for (int i = 0; i < nums.length; i++) {{
            Integer j = seen_{tag}.get(target - nums[i]);
            if (j != null) return new int[] {{j, i{bug}}};
            seen_{tag}.put(nums[i], i);
        }}
        return null;
    }}
}}
"""
TWO_SUM_JS = """
var twoSum = function(nums, target) {{
    const seen_{tag} = new Map();
    for (let i = 0; i < nums.length; i++) {{
        if (seen_{tag}.has(target - nums[i])) return [seen_{tag}.get(target - nums[i]), i{bug}];
        seen_{tag}.set(nums[i], i);
    }}
}};
"""


def python_suite(rng: random.Random, n: int = 10):
    inputs, outputs = [], []
    for _ in range(n):
        while True:  # exactly one pair sums to the target, so the expected answer is the only right one
            nums = rng.sample(range(-1000, 1000), 20)
            i, j = sorted(rng.sample(range(20), 2))
            if sum(a + b == nums[i] + nums[j] for k, a in enumerate(nums) for b in nums[k + 1:]) == 1:
                break
        inputs.append(f"{json.dumps(nums)}\n{nums[i] + nums[j]}")
        outputs.append(json.dumps([i, j]))
    return parse_tests({"fn_name": "twoSum", "inputs": inputs, "outputs": outputs})


def typed_suite(rng: random.Random, n: int = 10):
    """The Python suite with the signature typed languages need."""
    tests = python_suite(rng, n)
    return parse_tests({"fn_name": "twoSum", "params": [["nums", "int[]"], ["target", "int"]], "returns": "int[]",
                        "inputs": [c.stdin for c in tests.cases], "outputs": [json.dumps(c.expected) for c in tests.cases]})


def sum_suite(rng: random.Random, n: int = 10):
    cases = []
    for _ in range(n):
        pairs = [(rng.randint(-10**9, 10**9), rng.randint(-10**9, 10**9)) for _ in range(5)]
        cases.append({"input": "\n".join(f"{a} {b}" for a, b in pairs), "output": str(sum(a + b for a, b in pairs))})
    return parse_tests(cases)


# language -> (template, the bug a wrong submission has, its test suite)
PROBLEMS = {"python": (TWO_SUM, " + 1", python_suite), "cpp": (SUM_CPP, " + 1", sum_suite),
            "java": (SUM_JAVA, " + 1", sum_suite), "javascript": (SUM_JS, " + 1n", sum_suite),
            "go": (SUM_GO, " + 1", sum_suite), "rust": (SUM_RUST, " + 1", sum_suite)}
# the same function-call problem in the languages that serve all their calls from one process
CALLS = {"python": PROBLEMS["python"], "java": (TWO_SUM_JAVA, " + 1", typed_suite),
         "javascript": (TWO_SUM_JS, " + 1", typed_suite)}


def submissions(language: str, n: int, seed: int = 0, distinct: int | None = None) -> list[tuple[str, object, object]]:
    """``n`` submissions; with ``distinct``, only that many different programs among them (a GRPO group)."""
    rng = random.Random(seed)
    template, bug, suite = PROBLEMS[language]
    lang = get_language(language)
    tags = [k % distinct for k in range(n)] if distinct else list(range(n))
    if distinct:
        rng.shuffle(tags)
    return [(template.format(tag=f"{seed}x{k}", bug=bug if k % 10 == 9 or k == (distinct or 0) - 1 else ""), lang,
             suite(rng)) for k in tags]


def bare(code: str, language, suite, limits: Limits) -> list[Verdict]:
    """(a): no sandbox, no runner: what grading costs without isolation."""
    program = kind_of(suite).program(code, language, suite)
    judge_one = call_judge(None) if suite.fn_name is not None else text_judge(same_text)
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
            verdicts.append(graded(run, case, judge_one).verdict)
        return verdicts


class NaiveDocker:
    """(b): a new container per submission, locked down like ours, with the same runner as its PID 1."""

    name = "naive-docker"
    compile_cache = None  # nothing is kept between submissions
    address_space_rlimit = False
    nproc_rlimit = False
    workdir_base = "/work"
    sweep = None

    def __init__(self, image: str) -> None:
        self.image = self.toolchain = image

    def describe(self) -> str:
        return f"a new container of {self.image} per submission"

    def session(self, limits: Limits) -> PipeSession:
        memory = f"{limits.memory_mb + RUNNER_SHARE_MB}m"
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




def ours(backend, limits: Limits):
    return lambda code, lang, suite: [t.verdict for t in judge(code, lang, suite, backend, limits,
                                                               stop_on_failure=False).tests]


def bench(label: str, subs, limits: Limits, n_naive: int) -> list[dict[str, object]]:
    docker_backend, bwrap_backend = get_backend("docker"), get_backend("bwrap")
    naive = NaiveDocker(docker_backend.image)
    for backend in (docker_backend, bwrap_backend):  # warm-up: the first container, page cache
        ours(backend, limits)(*subs[0])
    rows, results = [], []
    for config, fn, batch in (("(a) bare subprocesses", lambda *s: bare(*s, limits), subs),
                              ("(b) naive docker run", ours(naive, limits), subs[:n_naive]),
                              ("(c) ours: docker", ours(docker_backend, limits), subs),
                              ("(d) ours: bwrap", ours(bwrap_backend, limits), subs)):
        for backend in (docker_backend, bwrap_backend):  # every submission compiles (the warm-up's among them)
            backend.compile_cache.clear()
        row, verdicts = measure(f"{label} {config}", batch, fn)
        rows.append(row)
        results.append(verdicts)
    for row, verdicts in zip(rows, results, strict=True):
        row["same verdicts"] = verdicts == results[0][:len(verdicts)]
    ratios(rows, rows[0]["subs/s"], rows[1]["subs/s"])
    print(f"\n{label}: {len(subs)} submissions x {len(subs[0][2].cases)} tests "
          f"({sum(v == [Verdict.accepted] * len(v) for v in results[0])} all-accepted)")
    print_table(rows)
    return rows


def ratios(rows: list[dict[str, object]], bare_rate: object, naive_rate: object) -> None:
    for row in rows:
        row["x bare"] = row["subs/s"] / bare_rate  # type: ignore[operator]
        row["x naive"] = row["subs/s"] / naive_rate  # type: ignore[operator]


def grpo(limits: Limits, groups: int, cpp_rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """C++ GRPO groups (16 samples, 4 different programs): cold cache, then the same groups warm."""
    subs = [sub for g in range(groups) for sub in submissions("cpp", 16, seed=100 + g, distinct=4)]
    rows = []
    for name in ("docker", "bwrap"):
        get_backend(name).compile_cache.clear()
        for state in ("cold", "warm"):
            row, verdicts = measure(f"cpp GRPO {groups}x16, {state} cache: {name}", subs, ours(get_backend(name), limits))
            row["same verdicts"] = verdicts == [[Verdict.wrong_answer if " + 1 <<" in code else Verdict.accepted] * 10
                                                for code, _, _ in subs]  # what the bare run gives
            rows.append(row)
    ratios(rows, cpp_rows[0]["subs/s"], cpp_rows[1]["subs/s"])
    print(f"\nC++ GRPO groups: {groups} x 16 samples, 4 different programs each (x bare, x naive: against the "
          "C++ rows above, where every submission is a new program)")
    print_table(rows)
    return rows


def per_test_ms(language: str, backend, limits: Limits, repeats: int = 5, problems=PROBLEMS) -> float:
    """What one more test costs once compiled: (a submission of 21 tests - one of 1 test) / 20, medians;
    NaN, said why, when the program is not accepted there."""
    template, _, make_suite = problems[language]
    code, lang = template.format(tag="pt", bug=""), get_language(language)
    suites = {n: make_suite(random.Random(n), n) for n in (1, 21)}
    judge(code, lang, suites[1], backend, limits)  # compiled, and cached
    times: dict[int, list[float]] = {1: [], 21: []}
    for _ in range(repeats):
        for n, suite in suites.items():
            started = time.perf_counter()
            report = judge(code, lang, suite, backend, limits, stop_on_failure=False)
            times[n].append(time.perf_counter() - started)
            if report.verdict is not Verdict.accepted:
                print(f"{language} on {backend.name}: {report.verdict} ({(report.compile_output or '')[:120]!r})")
                return float("nan")
    return (statistics.median(times[21]) - statistics.median(times[1])) / 20 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="Python submissions (10 tests each)")
    parser.add_argument("--n-compiled", type=int, default=20, help="submissions of every other language")
    parser.add_argument("--naive", type=int, default=None, help="time (b) on the first N submissions only")
    parser.add_argument("--groups", type=int, default=3, help="C++ GRPO groups of 16 samples")
    parser.add_argument("--only", default=",".join(PROBLEMS), help="languages, comma-separated")
    parser.add_argument("--calls-only", action="store_true", help="only the function-call per-test rows")
    args = parser.parse_args()
    if args.calls_only:
        call_targets(function_calls(Limits(), list(CALLS)))
        return
    limits = Limits()
    print(f"{os.cpu_count()} CPUs; sandbox image {get_backend('docker').image}; "
          f"bare python3 = {subprocess.getoutput(f'PATH={PATH} command -v python3')}")
    rows: dict[str, list[dict[str, object]]] = {}
    for language in args.only.split(","):
        if get_language(language) is None:
            print(f"\n{language}: skipped, not registered in sandbox/languages")
            continue
        n = args.n if language == "python" else args.n_compiled
        rows[language] = bench(language, submissions(language, n), limits, args.naive or n)
    warm = grpo(limits, args.groups, rows["cpp"]) if "cpp" in rows and args.groups else []
    overhead = {(lang, name): per_test_ms(lang, get_backend(name), limits) for lang in rows
                for name in ("docker", "bwrap")}
    print("\nper-test cost once compiled, ms: " + "; ".join(
        f"{lang} {name} {ms:.1f}" for (lang, name), ms in overhead.items()))
    calls = function_calls(limits, [lang for lang in CALLS if lang in rows or args.calls_only])
    targets(rows, warm, overhead)
    call_targets(calls)


def function_calls(limits: Limits, languages: list[str]) -> dict[tuple[str, str], float]:
    """Per-test cost of function-call tests once compiled: Python (a fork per test) against the languages
    that serve every test from one process (Java, JavaScript)."""
    costs = {(lang, name): per_test_ms(lang, get_backend(name), limits, problems=CALLS)
             for lang in languages for name in ("docker", "bwrap")}
    print("\nfunction-call tests, per-test cost once compiled (twoSum), ms:")
    print_table([{"language": lang, **{name: costs.get((lang, name), float("nan")) for name in ("docker", "bwrap")}}
                 for lang in languages])
    return costs


def call_targets(costs: dict[tuple[str, str], float]) -> None:
    for lang in ("java", "javascript"):
        for name in ("docker", "bwrap"):
            if (lang, name) in costs and ("python", name) in costs:
                ratio = costs[lang, name] / costs["python", name]
                print(f"{lang} function calls per test <= 2x Python's, {name}: {ratio:.2f}x {ratio <= 2}")


def targets(rows, warm, overhead) -> None:
    print()
    for language, (_, _, docker_row, bwrap_row) in rows.items():
        if language == "python":
            print(f"python: docker >= 0.5x bare: {docker_row['x bare'] >= 0.5}; docker >= 5x naive: "
                  f"{docker_row['x naive'] >= 5}; bwrap >= 0.7x bare: {bwrap_row['x bare'] >= 0.7}")
            continue
        compiled = get_language(language).compiled  # type: ignore[union-attr]
        line = []
        for name, row in (("docker", docker_row), ("bwrap", bwrap_row)):
            slower = 1 / row["x bare"]
            line.append(f"time per submission <= 1.25x bare, {name}: {slower:.2f}x {slower <= 1.25 and row['same verdicts']}"
                        f"{'' if row['same verdicts'] else ' (verdicts differ from bare)'}")
        if "python" in rows:
            for name in ("docker", "bwrap"):
                ratio = overhead[language, name] / overhead["python", name]
                line.append(f"per test <= 2x Python's, {name}: {ratio:.2f}x {ratio <= 2}")
        print(f"{language}{'' if compiled else ' (not compiled: no targets)'}: " + "; ".join(line))
    for row in warm:
        if "warm" in str(row["config"]):
            print(f"{row['config']} >= 5x naive docker run: {row['x naive']:.2f}x {row['x naive'] >= 5}")


if __name__ == "__main__":
    main()
