"""The host's cache of compiled programs, on both backends: identical programs compile once, get the same
verdicts, and nothing a program does reaches what the next one runs. Also: a compile error keeps its head."""

from __future__ import annotations

import json
import os
from typing import Any

from sandbox import Limits, Verdict, get_language, judge, parse_tests
from sandbox.compile_cache import CompileCache
from sandbox.report import OUTPUT_BYTES

CPP = get_language("cpp")
ADD = "#include <iostream>\n// {tag}\nint main(){{long long a,b;std::cin>>a>>b;std::cout<<a+b{bug}<<'\\n';}}\n"
TESTS = parse_tests({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})


def add(bug: str = "", tag: str = "") -> str:
    return ADD.format(tag=tag or os.urandom(8).hex(), bug=bug)  # a new source for every test run


class _Recorded:
    """A real session that notes the jobs it is sent."""

    def __init__(self, session: Any, jobs: list[dict[str, Any]]) -> None:
        self.session, self.jobs = session, jobs

    def send(self, message: dict[str, Any]) -> None:
        if "run" in message:
            self.jobs.append(message)
        self.session.send(message)

    def recv(self, timeout: float) -> dict[str, Any]:
        return self.session.recv(timeout)

    def close(self, anomaly: bool = False) -> None:
        self.session.close(anomaly)


class Watched:
    """The real backend with a compile cache of its own, noting the jobs its sessions are sent."""

    def __init__(self, backend: Any, max_bytes: int = 64 << 20) -> None:
        self.backend, self.compile_cache, self.jobs = backend, CompileCache(max_bytes), []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def session(self, limits: Limits) -> _Recorded:
        return _Recorded(self.backend.session(limits), self.jobs)


def verdicts(report) -> list[Verdict]:
    return [t.verdict for t in report.tests]


def test_identical_submission_does_not_compile_again(backend):
    code = add()
    first = judge(code, CPP, TESTS, backend)  # the backend's own cache, as the service uses it
    second = judge(code, CPP, TESTS, backend)
    assert first.verdict is second.verdict is Verdict.accepted
    assert (first.compile_cached, second.compile_cached) == (False, True)
    watched = Watched(backend)
    wrong = add(bug="+1")
    reports = [judge(wrong, CPP, TESTS, watched, stop_on_failure=False) for _ in range(2)]
    assert verdicts(reports[0]) == verdicts(reports[1]) == [Verdict.wrong_answer] * 2
    assert [r.compile_cached for r in reports] == [False, True]
    compiled, cached = watched.jobs
    assert compiled["compile"] and "binary" not in compiled
    assert cached["compile"] is None and list(cached["binary"]) == ["main"]  # the binary, nothing else


def test_a_different_source_compiles(backend):
    watched = Watched(backend)
    assert judge(add(), CPP, TESTS, watched).verdict is Verdict.accepted
    other = judge(add(bug="*2"), CPP, TESTS, watched)
    assert other.verdict is Verdict.wrong_answer and not other.compile_cached  # its own binary ran
    assert [bool(job["compile"]) for job in watched.jobs] == [True, True] and len(watched.compile_cache) == 2


def test_the_cache_is_bounded(backend):
    watched = Watched(backend)
    judge(add(), CPP, TESTS, watched)
    one = watched.compile_cache.bytes  # a binary of this program, as base64
    watched.compile_cache.max_bytes = 2 * one + one // 2  # room for two
    programs = [add() for _ in range(3)]
    for code in programs:
        judge(code, CPP, TESTS, watched)
    assert len(watched.compile_cache) == 2 and watched.compile_cache.bytes <= watched.compile_cache.max_bytes
    again = [judge(code, CPP, TESTS, watched).compile_cached for code in (programs[2], programs[0])]
    assert again == [True, False]  # the least recently used went first
    # What a compile leaves past ARTIFACT_BYTES (16 MiB) is not kept at all: the next one compiles again.
    big = "char big[17 << 20] = {1};\n" + add()
    limits = Limits(file_size_mb=32)
    reports = [judge(big, CPP, TESTS, watched, limits) for _ in range(2)]
    assert [(r.verdict, r.compile_cached) for r in reports] == [(Verdict.accepted, False)] * 2


def test_a_compile_error_is_cached(backend):
    watched = Watched(backend)
    code = f"int main( {{ return 0; }} // {os.urandom(8).hex()}"
    first, second = (judge(code, CPP, TESTS, watched) for _ in range(2))
    assert first.verdict is second.verdict is Verdict.compile_error
    assert "error" in first.compile_output and second.compile_output == first.compile_output
    assert (first.compile_cached, second.compile_cached) == (False, True)
    assert len(watched.jobs) == 1  # the second never reached a runner


JAVA_TWO_CLASSES = """import java.util.Scanner;
// %s
public class Main {
    static class Adder { long add(long a, long b) { return a + b; } }
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        System.out.println(new Adder().add(in.nextLong(), in.nextLong()));
    }
}
"""


def test_every_file_the_compile_makes_comes_back(backend):
    # No list of artifacts per language: javac makes a .class file per class, and a hit needs both.
    watched = Watched(backend)
    code = JAVA_TWO_CLASSES % os.urandom(8).hex()
    reports = [judge(code, get_language("java"), TESTS, watched) for _ in range(2)]
    assert [(r.verdict, r.compile_cached) for r in reports] == [(Verdict.accepted, False), (Verdict.accepted, True)]
    assert sorted(watched.jobs[1]["binary"]) == ["Main$Adder.class", "Main.class"]


# Replaces its own binary with a script that prints 999, once it has answered.
TAMPER = """#include <cstdio>
#include <iostream>
#include <sys/stat.h>
// %s
int main() {
    long long a, b; std::cin >> a >> b; std::cout << a + b << std::endl;
    std::remove("main");
    FILE *f = std::fopen("main", "w"); std::fputs("#!/bin/sh\\necho 999\\n", f); std::fclose(f);
    chmod("main", 0755);
}
"""


def test_a_program_that_replaces_its_binary_does_not_change_the_next_ones(backend):
    watched = Watched(backend)
    code = TAMPER % os.urandom(8).hex()
    first, second = (judge(code, CPP, TESTS, watched, stop_on_failure=False) for _ in range(2))
    # In its own submission the replacement works (the second test runs the script)...
    assert verdicts(first) == [Verdict.accepted, Verdict.wrong_answer]
    # ...but the next identical submission runs the binary the compile made.
    assert second.compile_cached and verdicts(second) == verdicts(first)


def test_a_compile_error_keeps_its_first_error(backend):
    code = "".join(f"int f{i}() {{ return undeclared_{i}; }}\n" for i in range(200)) + f"// {os.urandom(8).hex()}\n"
    report = judge(code, CPP, TESTS, backend)
    out = report.compile_output
    assert report.verdict is Verdict.compile_error and len(json.dumps(out)) <= OUTPUT_BYTES
    assert "undeclared_0" in out and "undeclared_199" not in out and out.endswith("\n[...]")
    assert len(out) > OUTPUT_BYTES // 2  # the budget is used, not thrown away


def test_an_entry_larger_than_the_cache_is_not_kept():
    from sandbox.compile_cache import Compiled
    cache = CompileCache(max_bytes=100)
    cache.put("big", Compiled(False, stderr="x" * 101))
    cache.put("small", Compiled(False, stderr="x" * 60))
    cache.put("next", Compiled(False, stderr="x" * 60))
    assert cache.get("big") is None and cache.get("small") is None and cache.get("next") is not None
    assert cache.bytes == 60 and CompileCache().max_bytes == 64 << 20  # what each backend gets
