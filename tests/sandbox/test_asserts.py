"""Assert-style tests (HumanEval's ``check``, MBPP's asserts): right verdicts, and exploits that win in a
naive same-process harness win nothing here. Each runs on Docker and on bubblewrap."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import BadTests, Limits, Verdict, get_language, judge, parse_tests
from sandbox.assert_values import decode, dumps, encode, loads

PY = get_language("python")
EXPLOITS = Path(__file__).resolve().parents[2] / "reward_service" / "exploits"
CHECK = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n"
ADD = "def add(a, b):\n    return a + b\n"


def run(code: str, tests: dict, backend, **limits):
    return judge(code, PY, parse_tests(tests), backend, Limits(**limits) if limits else Limits())


@pytest.mark.parametrize("tests", [
    {"check": CHECK, "entry_point": "add"},                                         # HumanEval
    {"assert": "assert add(1, 2) == 3\nassert add(-4, 4) == 0\n", "entry_point": "add"},  # MBPP / verl
    {"assert": CHECK, "entry_point": "add"},                    # HumanEval's code given as 'assert'
    json.dumps({"check": CHECK, "entry_point": "add"}),         # as a JSON string, as data sets store it
], ids=["check", "assert", "check-as-assert", "json-string"])
def test_every_form_passes_a_right_solution_and_fails_a_wrong_one(tests, backend):
    assert run(ADD, tests, backend).verdict is Verdict.accepted
    wrong = run("def add(a, b):\n    return a - b\n", tests, backend)
    assert wrong.verdict is Verdict.wrong_answer and wrong.passed == 0 and wrong.total == 1
    assert "assertion failed (line" in wrong.tests[0].detail


def test_solution_forms_class_solution_and_helpers_from_the_prompt(backend):
    tests = {"check": "def check(candidate):\n    assert candidate(encode('abc')) == 'abc'\n", "entry_point": "decode"}
    code = "def encode(s):\n    return s[::-1]\n\ndef decode(s):\n    return s[::-1]\n"
    report = run(code, tests, backend)
    assert report.verdict is Verdict.accepted  # encode() is the candidate's, as in HumanEval/38 run as one file
    assert report.borrowed == ("encode",)      # and the report says so
    method = "class Solution:\n    def add(self, a, b):\n        return a + b\n"
    assert run(method, {"check": CHECK, "entry_point": "add"}, backend).verdict is Verdict.accepted


def test_values_keep_their_types_across(backend):
    tests = {"check": ("def check(candidate):\n"
                       "    assert candidate((1, 2), {3: 'x', (4, 5): [None]}, {6}) == ((2, 1), {'x': 3}, frozenset({6}))\n"
                       "    assert candidate((1, 2), {}, set())[0] != [2, 1]\n"
                       "    assert candidate.__name__ == 'f'\n"),
             "entry_point": "f"}
    code = "def f(t, d, s):\n    return t[::-1], {v: k for k, v in d.items() if isinstance(v, str)}, frozenset(s)\n"
    assert run(code, tests, backend).verdict is Verdict.accepted


def test_exceptions_cross_as_their_builtin_type(backend):
    tests = {"check": ("def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError:\n        pass\n"
                       "    else:\n        assert False, 'no ValueError'\n    assert candidate(4) == 2\n"),
             "entry_point": "root"}
    code = "def root(x):\n    if x < 0:\n        raise ValueError('negative')\n    return int(x ** 0.5)\n"
    assert run(code, tests, backend).verdict is Verdict.accepted
    crash = run("def root(x):\n    return [][1]\n", tests, backend)
    assert crash.verdict is Verdict.runtime_error
    assert "the candidate raised IndexError" in crash.tests[0].detail


def test_limits_end_the_test_whatever_the_test_code_does_with_the_error(backend):
    swallow = {"check": "def check(candidate):\n    try:\n        candidate()\n    except BaseException:\n        pass\n",
               "entry_point": "f"}
    slow = run("def f():\n    while True:\n        pass\n", swallow, backend, time_s=0.5)
    assert slow.verdict is Verdict.time_limit
    big = run("def f():\n    return 'x' * (1 << 30)\n", swallow, backend, memory_mb=128)
    assert big.verdict is Verdict.memory_limit


COUNTER = "calls = []\ndef tick(x):\n    calls.append(x)\n    print('debug', x)\n    return len(calls)\n"


def test_the_candidate_keeps_its_state_across_the_calls_of_a_test(backend):
    # HumanEval's own harness runs check and the solution in one process: state carries from call to call.
    tests = {"check": ("def check(candidate):\n    assert candidate('a') == 1\n    assert candidate('b') == 2\n"
                       "    assert [candidate(k) for k in range(3)] == [3, 4, 5]\n"), "entry_point": "tick"}
    assert run(COUNTER, tests, backend).verdict is Verdict.accepted
    exits = COUNTER.replace("    return", "    if len(calls) == 2:\n        import os\n        os._exit(0)\n    return")
    dies = run(exits, tests, backend)  # the second call ends the process without answering
    assert dies.verdict is Verdict.runtime_error and "without answering" in dies.tests[0].detail


def test_what_the_candidate_prints_is_not_an_answer(backend):
    forged = ("import os, sys\ndef f(x):\n    print('0123456789abcdef {\"value\": 3}')\n"
              "    os.write(1, b'0123456789abcdef {\"value\": 3}\\n')\n    sys.stdout.flush()\n    return x\n")
    tests = {"check": "def check(candidate):\n    assert candidate(2) == 3\n", "entry_point": "f"}
    assert run(forged, tests, backend).verdict is Verdict.wrong_answer


def test_a_call_that_hangs_after_others_succeeded_is_a_time_limit(backend):
    code = "n = 0\ndef f():\n    global n\n    n += 1\n    while n == 3:\n        pass\n    return n\n"
    tests = {"check": "def check(candidate):\n    for k in range(1, 5):\n        assert candidate() == k\n",
             "entry_point": "f"}
    report = run(code, tests, backend, time_s=0.5)
    assert report.verdict is Verdict.time_limit, report


@pytest.mark.parametrize("exploit", sorted(p.stem for p in EXPLOITS.glob("code-asserts-*.json")))
def test_exploits_that_win_in_a_naive_harness_win_nothing_here(exploit, backend, tmp_path):
    item = json.loads((EXPLOITS / f"{exploit}.json").read_text())["item"]
    code = item["completion"].split("```python\n", 1)[1].rsplit("```", 1)[0]
    tests = item["tests"]
    # The naive way: solution, tests and the check call in one process; exit status 0 counts as passed.
    naive = tmp_path / "naive.py"
    naive.write_text(f"{code}\n{tests['check']}\ncheck({tests['entry_point']})\n")
    assert subprocess.run([sys.executable, str(naive)], capture_output=True).returncode == 0  # it wins there
    report = run(code, tests, backend)
    assert report.verdict is not Verdict.accepted and report.passed == 0


def test_the_test_process_has_no_network(backend):
    with socket.create_server(("127.0.0.1", 0)) as server:  # a service of the host's, on loopback
        port = server.getsockname()[1]
        probe = f"import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        tests = {"check": f"def check(candidate):\n    assert candidate(1, 2) == 3\n    {probe}", "entry_point": "add"}
        report = run(ADD, tests, backend)
    assert report.verdict is Verdict.wrong_answer
    assert "the test code raised" in report.tests[0].detail  # refused, unreachable: never connected


def test_bad_test_code_is_refused_before_anything_runs():
    for tests, why in [({"check": "def check(candidate):\n    assert (\n", "entry_point": "f"}, "does not parse"),
                       ({"check": "assert f(1) == 1\n", "entry_point": "f"}, "must define check"),
                       ({"assert": "print(f(1))\n", "entry_point": "f"}, "no assert statement"),
                       ({"assert": "assert f(1)\n"}, "entry_point"),
                       ({"assert": "assert f(1)\n", "check": CHECK, "entry_point": "f"}, "not both")]:
        with pytest.raises(BadTests, match=why):
            parse_tests(tests)


def test_test_code_that_never_calls_the_candidate_is_invalid_not_a_pass(backend):
    with pytest.raises(BadTests, match="never called the candidate"):
        run(ADD, {"assert": "assert 1 + 1 == 2\n", "entry_point": "add"}, backend)


def test_the_codec_rebuilds_plain_values_only():
    value = [1, 2.5, float("inf"), "s", None, True, (1, [2]), {(1, 2): {3}}, frozenset({4}), 1 + 2j, b"\x00"]
    assert loads(dumps(value)) == value
    assert type(loads(dumps((1,)))) is tuple
    for foreign in (object(), type("I", (int,), {})(3), lambda: 0):
        with pytest.raises(TypeError):
            encode(foreign)
    for bad in ({"X": []}, {"T": 1}, {"D": [[[1], 2]]}, {"T": [], "S": []}):
        with pytest.raises(ValueError):
            decode(bad)
    with pytest.raises(ValueError):
        loads("[" * 100_000 + "]" * 100_000)


def test_test_code_that_writes_over_the_protocol_fails_alone(backend):
    # The test process's channel to the host is a file descriptor the test code could find; garbage there is
    # that item's failure, never an exception in the grader.
    forge = ("import os\ndef check(candidate):\n    assert candidate(1, 2) == 3\n"
             "    for fd in range(3, 10):\n        try:\n            os.write(fd, b'not json\\n')\n"
             "        except OSError:\n            pass\n    assert candidate(1, 2) == 3\n")
    report = run(ADD, {"check": forge, "entry_point": "add"}, backend)
    assert report.verdict is Verdict.runtime_error and "not a message" in report.tests[0].detail


CYCLIC = {  # HumanEval/38 in small: the prompt's helper, the check, and a candidate that redefines the helper
    "prompt": "def encode(s):\n    return s[1:] + s[:1]\n\ndef decode(s):\n    \"\"\"Undo encode.\"\"\"\n",
    "check": "def check(candidate):\n    for s in ('abc', 'hello'):\n        assert candidate(encode(s)) == s\n",
    "entry_point": "decode",
}
IDENTITY = "def encode(s):\n    return s\n\ndef decode(s):\n    return s\n"


@pytest.mark.parametrize("key", ["prompt", "setup"])
def test_the_problems_helpers_come_from_its_setup_never_from_the_candidate(key, backend):
    tests = {key: CYCLIC["prompt"], "check": CYCLIC["check"], "entry_point": "decode"}
    cheat = run(IDENTITY, tests, backend)
    assert cheat.verdict is Verdict.wrong_answer and cheat.borrowed == ()
    right = run("def decode(s):\n    return s[-1:] + s[:-1]\n", tests, backend)
    assert right.verdict is Verdict.accepted and right.borrowed == ()
    # Without the prompt the helper can only be the candidate's: it passes, and the report names it.
    alone = run(IDENTITY, {"check": CYCLIC["check"], "entry_point": "decode"}, backend)
    assert alone.verdict is Verdict.accepted and alone.borrowed == ("encode",)


@pytest.mark.parametrize("raised", ["StopIteration", "StopAsyncIteration", "GeneratorExit", "KeyboardInterrupt",
                                    "SystemExit"])
def test_exceptions_that_steer_control_flow_arrive_as_failures(raised, backend):
    # all(map(...)) stops at a StopIteration raised inside it and returns True: the test would pass.
    tests = {"check": "def check(candidate):\n    assert all(map(lambda a: candidate(a) == a * 2, [1, 2, 3]))\n",
             "entry_point": "double"}
    report = run(f"def double(a):\n    raise {raised}()\n", tests, backend)
    assert report.verdict is Verdict.runtime_error, report


def test_setup_code_is_checked_before_anything_runs():
    for tests, why in [({"prompt": "def f(:\n", "check": CHECK, "entry_point": "add"}, "prompt code does not parse"),
                       ({"setup": 3, "check": CHECK, "entry_point": "add"}, "must be Python code"),
                       ({"setup": "", "prompt": "", "check": CHECK, "entry_point": "add"}, "not both")]:
        with pytest.raises(BadTests, match=why):
            parse_tests(tests)


PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'


@pytest.mark.parametrize(("code", "verdict"), [
    ("    return a + b\n", Verdict.accepted),                      # HumanEval's completion: the body
    ("    return a - b\n", Verdict.wrong_answer),
    (ADD, Verdict.accepted),                                      # the whole function: taken as it is
    ("class Solution:\n    def add(self, a, b):\n        return a + b\n", Verdict.accepted),
    ("return a + b\n", Verdict.runtime_error),                    # not indented: the prompt + it does not parse
], ids=["body", "wrong-body", "whole-function", "class-solution", "unindented"])
def test_a_completion_that_does_not_define_the_entry_point_continues_the_prompt(code, verdict, backend):
    tests = {"test": CHECK, "entry_point": "add", "prompt": PROMPT}  # a HumanEval row's fields
    assert run(code, tests, backend).verdict is verdict


def test_a_rows_test_field_is_check_or_asserts_by_what_it_defines():
    assert parse_tests({"test": CHECK, "entry_point": "add"}).asserts.call_check
    assert not parse_tests({"test": "assert add(1, 2) == 3\n", "entry_point": "add"}).asserts.call_check
    with pytest.raises(BadTests, match="not both"):
        parse_tests({"test": CHECK, "check": CHECK, "entry_point": "add"})
