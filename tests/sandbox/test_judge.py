"""Judging on both backends: formats as data sets ship them, every verdict, and cheats that gain nothing."""

from __future__ import annotations

import os

import pytest

from sandbox import BadTests, Limits, Verdict, available, get_language, judge, parse_tests
from sandbox.compare import same_text, same_value

PY, CPP = get_language("python"), get_language("cpp")
TWO_SUM = """
class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        seen = {}
        for i, n in enumerate(nums):
            if target - n in seen:
                return [seen[target - n], i]
            seen[n] = i
"""
LCB_TESTS = {"fn_name": "twoSum", "inputs": ["[2,7,11,15]\n9", "[3,2,4]\n6"], "outputs": ["[0, 1]", "[1, 2]"]}
APPS_TESTS = {"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 3], 6]], "outputs": [[[0, 1]], [[0, 1]]]}
ADD = "a, b = map(int, input().split())\nprint(a + b)\n"
ADD_TESTS = {"inputs": ["2 3\n", "10 -4\n", "0 0\n"], "outputs": ["5\n", "6  \n\n", "0"]}


def test_stdin_stdout_with_trailing_whitespace(backend):
    report = judge(ADD, PY, parse_tests(ADD_TESTS), backend)
    assert report.verdict is Verdict.accepted and report.passed == report.total == 3
    assert all(t.time_s is not None and t.memory_kb for t in report.tests)


@pytest.mark.parametrize("tests", [LCB_TESTS, APPS_TESTS], ids=["livecodebench", "apps"])
def test_leetcode_class_solution(backend, tests):
    assert judge(TWO_SUM, PY, parse_tests(tests), backend).verdict is Verdict.accepted


def test_top_level_function_and_tuples_equal_lists(backend):
    code = "def pair(a, b):\n    return (b, a)\n"
    suite = parse_tests([{"input": "1\n2", "output": "[2, 1]", "fn_name": "pair"}])
    assert judge(code, PY, suite, backend).verdict is Verdict.accepted


def test_wrong_answer_stops_early_unless_told_not_to(backend):
    code = "a, b = map(int, input().split())\nprint(a + b if a != 2 else 0)\n"
    first = judge(code, PY, parse_tests(ADD_TESTS), backend)
    assert first.verdict is Verdict.wrong_answer and [t.verdict for t in first.tests] == [
        Verdict.wrong_answer, Verdict.skipped, Verdict.skipped]
    full = judge(code, PY, parse_tests(ADD_TESTS), backend, stop_on_failure=False)
    assert full.passed == 2 and full.fraction == pytest.approx(2 / 3)


def test_cpp_compiles_runs_and_reports_compile_errors(backend):
    good = "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}\n"
    assert judge(good, CPP, parse_tests(ADD_TESTS), backend).verdict is Verdict.accepted
    bad = judge("int main( { return 0; }", CPP, parse_tests(ADD_TESTS), backend)
    assert bad.verdict is Verdict.compile_error and "error" in bad.compile_output
    assert all(t.verdict is Verdict.compile_error for t in bad.tests)


def test_runtime_error_and_float_tolerance(backend):
    crash = judge("raise SystemExit(3)", PY, parse_tests(ADD_TESTS), backend)
    assert crash.verdict is Verdict.runtime_error and "exit code 3" in crash.tests[0].detail
    third = parse_tests([{"input": "", "output": "0.3333333"}])
    code = "print(1/3)"
    assert judge(code, PY, third, backend).verdict is Verdict.wrong_answer
    assert judge(code, PY, third, backend, float_tolerance=1e-6).verdict is Verdict.accepted


def test_printing_a_fake_verdict_or_overriding_eq_gains_nothing(backend):
    # The expected output never enters the sandbox, and results are compared as JSON outside it.
    liar = "print('accepted')\nprint('All tests passed')\n"
    assert judge(liar, PY, parse_tests(ADD_TESTS), backend).verdict is Verdict.wrong_answer
    eq_cheat = ("class Anything:\n    def __eq__(self, other):\n        return True\n"
                "class Solution:\n    def twoSum(self, nums, target):\n        return Anything()\n")
    report = judge(eq_cheat, PY, parse_tests(LCB_TESTS), backend)
    assert report.verdict is Verdict.runtime_error and "JSON" in report.tests[0].detail
    # A program that hunts the file system for its expected output finds nothing to print.
    token = "expected-" + os.urandom(6).hex()
    peek = ("import os\nfound = None\nmark = 'expec' + 'ted-'  # not in this file's own text\n"
            "for top in ('/work', '/tmp', '/', '/opt', '/etc', '/home', '/root'):\n"
            "    for r, ds, fs in os.walk(top):\n"
            "        ds[:] = [d for d in ds if os.path.join(r, d) not in ('/proc', '/sys', '/usr', '/dev')]\n"
            "        for f in fs:\n"
            "            try:\n"
            "                text = open(os.path.join(r, f), errors='ignore').read(1 << 16)\n"
            "            except OSError:\n"
            "                continue\n"
            "            i = text.find(mark)\n"
            "            if i >= 0:\n"
            "                found = text[i:i + 21]\n"
            "print(found or 'nothing')\n")
    assert judge(peek, PY, parse_tests([{"input": "", "output": token}]), backend).verdict is Verdict.wrong_answer


@pytest.mark.parametrize("code, verdict", [
    ("print(5)\nexit()\nprint(6)", Verdict.accepted),
    ("import threading\ndef main():\n    import time; time.sleep(0.1); print(5)\nthreading.Thread(target=main).start()",
     Verdict.accepted),
    ("import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))", Verdict.accepted),
    ("import sys\nprint(5)\nsys.exit(3)", Verdict.runtime_error),
])
def test_python_runs_as_a_fresh_interpreter_would(backend, code, verdict):
    # Python programs are forked from the runner's warm interpreter: exit(), threads left running at the end
    # of the module, raw stdin and exit codes behave as under `python3 main.py`.
    assert judge(code, PY, parse_tests([{"input": "2 3", "output": "5"}]), backend).verdict is verdict


def test_time_limit_from_item_limits(backend):
    slow = "import time\ntime.sleep(1.5)\nprint(5)\n"
    suite = parse_tests([{"input": "", "output": "5"}])
    assert judge(slow, PY, suite, backend, Limits(time_s=3)).verdict is Verdict.accepted
    assert judge(slow, PY, suite, backend, Limits(time_s=0.5)).verdict is Verdict.time_limit


def test_typed_function_calls_without_a_signature_are_bad_tests(backend):
    with pytest.raises(BadTests, match="params"):
        judge("int f(int x){return x;}", CPP, parse_tests(LCB_TESTS), backend)


@pytest.mark.parametrize("bad", [
    {"inputs": ["1"]}, {"inputs": ["1"], "outputs": []}, [], [{"input": "1"}], "not json", 42,
    {"inputs": ["x"], "outputs": ["1"], "fn_name": "f"}, {"inputs": ["1"], "outputs": ["1"], "fn_name": "no pe"},
])
def test_malformed_tests_are_rejected_with_a_reason(bad):
    with pytest.raises(BadTests):
        parse_tests(bad)


def test_comparison_rules():
    assert same_text("1 2\n3  \n\n", "1 2\n3") and not same_text("1 2", "1 2 3")
    assert same_text("0.30000001", "0.3", tolerance=1e-6) and not same_text("0.31", "0.3", tolerance=1e-6)
    assert same_value([1, [2, 3]], [1, [2, 3]]) and not same_value([1, 2], [2, 1])
    assert not same_value(1, True) and not same_value("1", 1) and same_value(1.0, 1)
    assert same_value({"a": 0.1 + 0.2}, {"a": 0.3}, tolerance=1e-9)


def test_available_says_yes_for_a_backend_that_runs(backend):
    assert available(backend.name) and available("auto")


def test_available_says_no_without_the_tools(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert not available("bwrap") and not available("docker") and not available("nope")


# --- what a program does to its own channels and limits is its own runtime error, never ours ----------------

RESULT_ABUSE = {
    "invalid_utf8": "open(os.environ['SANDBOX_RESULT'], 'wb').write(b'\\xff\\xfe[1, 2]\\x80')",
    "deep_nesting": "open(os.environ['SANDBOX_RESULT'], 'w').write('[' * 100000)",
    "deep_but_valid": "open(os.environ['SANDBOX_RESULT'], 'w').write('[' * 900 + ']' * 900)",
    "urandom_symlink": "os.symlink('/dev/urandom', os.environ['SANDBOX_RESULT'])",
    "fifo": "os.mkfifo(os.environ['SANDBOX_RESULT'])",
    "directory": "os.mkdir(os.environ['SANDBOX_RESULT'])",
}


@pytest.mark.parametrize("abuse", sorted(RESULT_ABUSE))
def test_a_mangled_result_channel_is_the_programs_runtime_error(backend, abuse):
    code = f"import os\ndef twoSum(nums, target):\n    {RESULT_ABUSE[abuse]}\n    os._exit(0)\n"
    report = judge(code, PY, parse_tests(LCB_TESTS), backend)
    assert report.verdict in (Verdict.runtime_error, Verdict.wrong_answer), report
    assert judge(TWO_SUM, PY, parse_tests(LCB_TESTS), backend).verdict is Verdict.accepted


PID_HOG = """
import os, time
if os.fork() == 0:  # a daemon (its own session: not in the test's process group) that holds every pid
    os.setsid()
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
time.sleep(0.5)
print(5)
"""


def test_a_daemon_holding_every_pid_does_not_break_the_next_test(backend):
    report = judge(PID_HOG, PY, parse_tests([{"input": "", "output": "5"}] * 3), backend, Limits(pids=40),
                   stop_on_failure=False)
    assert report.verdict is Verdict.accepted and report.passed == 3, report
    good = "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}\n"
    assert judge(good, CPP, parse_tests(ADD_TESTS), backend, Limits(pids=40)).verdict is Verdict.accepted


def test_lone_surrogates_in_inputs_and_code_fail_alone(backend):
    # JSON can carry "\udc80"; it reaches the program as the byte it stands for (surrogateescape).
    echo = "import sys\nprint(sys.stdin.buffer.read().hex())\n"
    assert judge(echo, PY, parse_tests([{"input": "a\udc80", "output": "6180"}]), backend).verdict is Verdict.accepted
    for code in ("print(5)  # \udc80\n", "print('\udc80')\nprint(5)\n"):  # a comment, a string literal
        python = judge(code, PY, parse_tests([{"input": "", "output": "5"}]), backend)
        assert python.verdict in (Verdict.accepted, Verdict.runtime_error, Verdict.wrong_answer), python
    cpp = "#include <cstdio>\n// \udc80\nint main(){std::puts(\"5\");}\n"
    assert judge(cpp, CPP, parse_tests([{"input": "", "output": "5"}]), backend).verdict is Verdict.accepted
    assert judge(ADD, PY, parse_tests(ADD_TESTS), backend).verdict is Verdict.accepted


HEAVY_CPP = """#include <cstdio>
template <int L, int H> struct R { static constexpr long v = R<L, (L + H) / 2>::v + R<(L + H) / 2 + 1, H>::v; };
template <int L> struct R<L, L> { static constexpr long v = L % 7; };
int main() { std::printf("%ld\\n", R<1, 30000>::v); }
"""


@pytest.mark.parametrize("backend", [
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("bwrap", marks=pytest.mark.bwrap),
], indirect=True)
def test_a_compile_gets_the_compile_memory_limit_not_the_runs(backend):
    # ~60,000 template instantiations: g++ needs ~200 MB, the program almost nothing.
    want = str(sum(i % 7 for i in range(1, 30001)))
    report = judge(HEAVY_CPP, CPP, parse_tests([{"input": "", "output": want}]), backend, Limits(memory_mb=64))
    assert report.verdict is Verdict.accepted, report
