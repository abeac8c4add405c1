"""What gVisor costs: the same submissions judged by the Docker backend under runc and under runsc, one run.

    python -m bench.gvisor [--n 5] [--tests 10]

Per language (Python: stdin sum; C++: the same, compiled, every submission a new program so the compile
cache misses) and runtime: the mean time of a submission with ``--tests`` tests (warm containers, one at a
time, as one grader does), and the per-test cost once compiled: (time with 21 tests - time with 1) / 20, on
a program already in the compile cache. Every verdict is checked (all accepted). Prints the ratio runsc/runc.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._common import print_table
from sandbox import Verdict, get_language, judge, parse_tests
from sandbox.backends.docker import DockerBackend

PY = "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()) + 0 * {tag})\n"
CPP = ("#include <iostream>\nint main() {{ long long a, s = {tag} * 0; while (std::cin >> a) s += a; "
       "std::cout << s << \"\\n\"; }}\n")
SOURCES = {"python": PY, "cpp": CPP}


def _suite(tests: int):
    return parse_tests({"inputs": [f"{i} {i + 1}\n" for i in range(tests)],
                        "outputs": [f"{2 * i + 1}\n" for i in range(tests)]})


def _timed(backend: DockerBackend, language: str, code: str, tests: int) -> float:
    lang = get_language(language)
    assert lang is not None
    started = time.perf_counter()
    report = judge(code, lang, _suite(tests), backend)
    elapsed = time.perf_counter() - started
    assert report.verdict == Verdict.accepted, report
    return elapsed


def measure(runtime: str, language: str, n: int, tests: int) -> tuple[float, float]:
    """(mean seconds per submission of ``tests`` tests, seconds per test once compiled)."""
    backend = DockerBackend(runtime=runtime)
    try:
        source = SOURCES[language]
        _timed(backend, language, source.format(tag=-1), 1)  # a warm container, and the compiler's disk cache
        fresh = time.time_ns() % 10**9  # new programs: the compile cache misses
        per_submission = statistics.mean(_timed(backend, language, source.format(tag=fresh + i), tests)
                                         for i in range(n))
        warm = source.format(tag=-1)  # in the compile cache now
        one = statistics.median(_timed(backend, language, warm, 1) for _ in range(3))
        many = statistics.median(_timed(backend, language, warm, 21) for _ in range(3))
        return per_submission, max(0.0, many - one) / 20
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5, help="submissions per language and runtime")
    parser.add_argument("--tests", type=int, default=10, help="tests per submission")
    parser.add_argument("--only", default=",".join(SOURCES), help="languages, comma-separated")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for language in args.only.split(","):
        runc = measure("runc", language, args.n, args.tests)
        runsc = measure("runsc", language, args.n, args.tests)
        rows.append({"language": language, "runc s/submission": f"{runc[0]:.3f}",
                     "runsc s/submission": f"{runsc[0]:.3f}", "ratio": f"{runsc[0] / runc[0]:.1f}",
                     "runc ms/test": f"{runc[1] * 1000:.1f}", "runsc ms/test": f"{runsc[1] * 1000:.1f}",
                     "ratio/test": f"{runsc[1] / runc[1]:.1f}" if runc[1] else "-"})
    print_table(rows)


if __name__ == "__main__":
    main()
