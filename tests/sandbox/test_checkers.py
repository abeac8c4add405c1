"""Checkers on both backends: built-ins, checker programs (Python, C++), partial credit, broken checkers that
are never the candidate's 0, and candidates that try to reach or confuse the checker."""

from __future__ import annotations

import os

import pytest

from reward_service.grading.code import grade_code
from sandbox import BadTests, Limits, Verdict, get_language, judge, parse_tests
from sandbox.checkers import Checker, outcome, program
from sandbox.compare import same_lines, same_tokens_ignoring_case, same_unordered_lines
from sandbox.sandboxed import compile_key

PY, CPP = get_language("python"), get_language("cpp")
ECHO = "import sys\nsys.stdout.write(sys.stdin.read())\n"  # its output is its input: each case chooses one

# Each built-in: (output, expected, accepted?) — outputs right only under that checker, and wrong ones.
BUILTIN_CASES = {
    "tokens": [("1  2\n3 \n\n", "1 2 3", True), ("1 2", "1 2 3", False), ("1.0000001", "1", False)],
    "lines": [("a b  \r\nc\r\n\r\n", "a b\nc", True), ("a b\nc\n\n\n", "a b\nc\n", True),
              ("a  b\nc", "a b\nc", False), ("a b c", "a b\nc", False), (" a b\nc", "a b\nc", False),
              ("a b\n\nc", "a b\nc", False)],
    "float:1e-6": [("0.3333333", "0.333333333", True), ("1.0000001 x", "1 x", True), ("1.00001", "1", False),
                   ("1e-7", "0", True), ("1e-5", "0", False), ("1 2", "1", False)],
    "yes_no": [("yes\nNO \r\n", "YES\nno", True), ("Yes", "YES", True), ("yes", "NO", False),
               ("yes yes", "YES", False)],
    "unordered_lines": [("b 2\r\n  a 1\n\n", "a 1\nb 2\n", True), ("a 1\na 1", "a 1\nb 2", False),
                        ("a 1 b 2", "a 1\nb 2", False), ("a 1\nb 2\nc 3", "a 1\nb 2", False)],
}


def _verdicts(report):
    return [t.verdict for t in report.tests]


def test_builtin_comparisons_on_the_host():
    assert same_lines("x \r\ny\r\n\r\n", "x\ny") and not same_lines("x y", "x\ny") and not same_lines(" x", "x")
    assert same_tokens_ignoring_case("YES no", "yes NO") and not same_tokens_ignoring_case("yes", "yes yes")
    assert same_unordered_lines("b\n a\n", "a\nb") and not same_unordered_lines("a\na", "a\nb")


@pytest.mark.parametrize("name", sorted(BUILTIN_CASES))
def test_each_builtin_checker(backend, name):
    cases = BUILTIN_CASES[name]
    tests = {"inputs": [got for got, _, _ in cases], "outputs": [want for _, want, _ in cases], "checker": name}
    report = judge(ECHO, PY, parse_tests(tests), backend, stop_on_failure=False)
    want = [Verdict.accepted if ok else Verdict.wrong_answer for _, _, ok in cases]
    assert _verdicts(report) == want and report.passed == want.count(Verdict.accepted) and report.score is None
    if name in ("float:1e-6", "yes_no", "unordered_lines"):  # right only under that checker: not by tokens
        default = judge(ECHO, PY, parse_tests({**tests, "checker": "tokens"}), backend, stop_on_failure=False)
        assert Verdict.wrong_answer in [v for v, ok in zip(_verdicts(default), want, strict=True)
                                        if ok is Verdict.accepted]


@pytest.mark.parametrize("bad", ["floaty", "float:", "float:-1", "float:inf", 7, {"language": "java", "code": "x"},
                                 {"language": "python"}, {"language": "python", "code": "  "}])
def test_unknown_or_malformed_checkers_are_bad_tests(bad):
    with pytest.raises(BadTests, match="checker"):
        parse_tests({"inputs": ["1"], "outputs": ["1"], "checker": bad})


def test_checkers_only_in_the_stdin_stdout_object_form():
    with pytest.raises(BadTests, match="unknown checker.*tokens, lines, float:<tol>, yes_no, unordered_lines"):
        parse_tests({"inputs": ["1"], "outputs": ["1"], "checker": "exact"})
    with pytest.raises(BadTests, match="function-call"):
        parse_tests({"inputs": ["1"], "outputs": ["1"], "fn_name": "f", "checker": "lines"})
    with pytest.raises(BadTests, match="form"):
        parse_tests([{"input": "1", "output": "1", "checker": "lines"}])
    assert parse_tests({"inputs": ["1"], "outputs": ["1"]}).checker is None


# "Print two indices (1-based, distinct) whose values sum to the target": any such pair is right.
PAIR_INPUT = "5 9\n2 7 4 5 1\n"          # n target / values: 1 2, 3 4 and 2 1 all sum to 9
PAIR_ANSWER = "1 2\n"
PY_PAIR_CHECKER = """\
import sys
inp, out, ans = (open(p).read().split() for p in sys.argv[1:4])
n, target, values = int(inp[0]), int(inp[1]), [int(x) for x in inp[2:]]
try:
    i, j = (int(x) for x in out)
except ValueError:
    print("expected two indices, got %r" % " ".join(out)[:50], file=sys.stderr)
    sys.exit(2)
if not (1 <= i <= n and 1 <= j <= n and i != j) or values[i - 1] + values[j - 1] != target:
    print("values at %d and %d do not sum to %d" % (i, j, target), file=sys.stderr)
    sys.exit(1)
"""
CPP_PAIR_CHECKER = """\
#include <cstdio>
#include <fstream>
#include <vector>
int main(int argc, char** argv) {
    if (argc < 4) return 3;
    std::ifstream inp(argv[1]), out(argv[2]);
    long long n, target; inp >> n >> target;
    std::vector<long long> v(n);
    for (auto& x : v) inp >> x;
    long long i, j;
    if (!(out >> i >> j)) { std::fprintf(stderr, "expected two indices\\n"); return 2; }
    std::string extra;
    if (out >> extra) { std::fprintf(stderr, "extra output\\n"); return 1; }
    if (i < 1 || j < 1 || i > n || j > n || i == j || v[i - 1] + v[j - 1] != target) {
        std::fprintf(stderr, "values at %lld and %lld do not sum to %lld\\n", i, j, target);
        return 1;
    }
    return 0;
}
"""


@pytest.mark.parametrize("language, code", [("python", PY_PAIR_CHECKER), ("cpp", CPP_PAIR_CHECKER)])
def test_a_checker_program_accepts_any_right_answer(backend, language, code):
    checker = {"language": language, "code": code}
    tests = {"inputs": [PAIR_INPUT] * 4, "outputs": [PAIR_ANSWER] * 4, "checker": checker}
    answers = ["1 2", "4 3", "2 5", "1 1"]  # two right ones, a wrong pair, a repeated index
    for output, verdict in zip(answers, [Verdict.accepted] * 2 + [Verdict.wrong_answer] * 2, strict=True):
        candidate = f"import sys\nsys.stdin.read()\nprint({output!r})\n"
        report = judge(candidate, PY, parse_tests(tests), backend, stop_on_failure=True)
        assert report.tests[0].verdict is verdict, (output, report.tests[0])
        if verdict is Verdict.wrong_answer:
            assert "do not sum to 9" in report.tests[0].detail
            assert _verdicts(report)[1:] == [Verdict.skipped] * 3
        else:
            assert report.verdict is Verdict.accepted and report.passed == 4
    garbage = judge("print('hello')", PY, parse_tests(tests), backend)
    assert garbage.verdict is Verdict.wrong_answer and "expected two indices" in garbage.tests[0].detail  # exit 2
    if language == "cpp":  # compiled once: the next submission's checker comes from the compile cache
        limits = Limits()
        key = compile_key(backend, program(Checker(language="cpp", code=code)), limits)
        assert backend.compile_cache.get(key) is not None


PARTIAL_CHECKER = """\
import sys
out = open(sys.argv[2]).read().split()
if out == open(sys.argv[3]).read().split():
    sys.exit(0)
print(f"points {len(out) / 4} for {len(out)} of 4 numbers", file=sys.stderr)
sys.exit(7)
"""


def test_partial_credit_reaches_partial_items_as_a_fraction(backend):
    tests = {"inputs": ["1 2 3 4", "1 2", "1", "9 9 9 9 9 9"], "outputs": ["1 2 3 4"] * 4,
             "checker": {"language": "python", "code": PARTIAL_CHECKER}}
    report = judge(ECHO, PY, parse_tests(tests), backend, stop_on_failure=False)
    assert _verdicts(report) == [Verdict.accepted, Verdict.partial, Verdict.partial, Verdict.partial]
    assert [t.score for t in report.tests] == [None, 0.5, 0.25, 1.0]  # 6/4 is clipped to 1
    assert report.passed == 1 and report.score == pytest.approx((1 + 0.5 + 0.25 + 1) / 4)
    assert "points 0.5" in report.tests[1].detail
    region = f"```python\n{ECHO}```"
    partial = grade_code(region, tests, "python", partial=True, backend=backend.name)
    assert partial.status == "ok" and partial.score == pytest.approx(0.6875)
    assert partial.details["partial_score"] == pytest.approx(0.6875) and partial.details["tests"][1]["score"] == 0.5
    binary = grade_code(region, tests, "python", backend=backend.name)
    assert binary.status == "ok" and binary.score == 0.0 and binary.details["verdict"] == "partial"


BROKEN = {  # a checker that fails -> what the reason says
    "exit_3": ("import sys\nprint('cannot read the answer', file=sys.stderr)\nsys.exit(3)", "exit code 3"),
    "exit_5": ("import sys\nsys.exit(5)", "exit code 5"),
    "python_exception": ("raise KeyError('boom')", "KeyError"),
    "cpp_abort": ("#include <cstdlib>\nint main(){ std::abort(); }", "signal"),
    "timeout": ("while True:\n    pass", "longer than"),
    "partial_without_score": ("import sys\nsys.exit(7)", "no score"),
    "output_flood": ("print('x' * (2 << 20))", "output limit"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_checker_is_an_error_never_the_candidates_zero(backend, name):
    code, reason = BROKEN[name]
    language = "cpp" if name.startswith("cpp") else "python"
    tests = {"inputs": ["1", "2"], "outputs": ["1", "2"], "checker": {"language": language, "code": code}}
    report = judge(ECHO, PY, parse_tests(tests), backend, Limits(time_s=1), stop_on_failure=False)
    assert report.verdict is Verdict.checker_error and report.passed == 0
    assert _verdicts(report) == [Verdict.checker_error, Verdict.skipped]  # it stops: the item is an error
    assert reason in report.tests[0].detail
    verdict = grade_code(f"```python\n{ECHO}```", tests, "python", partial=True, backend=backend.name)
    assert verdict.status == "error" and verdict.score is None and "the checker failed" in verdict.reason


def test_a_checker_that_does_not_compile_makes_the_item_invalid(backend):
    tests = {"inputs": ["1"], "outputs": ["1"], "checker": {"language": "cpp", "code": "int main( { return 0; }"}}
    with pytest.raises(BadTests, match="the checker does not compile: .*error"):
        judge(ECHO, PY, parse_tests(tests), backend)
    verdict = grade_code(f"```python\n{ECHO}```", tests, "python", backend=backend.name)
    assert verdict.status == "invalid" and "does not compile" in verdict.reason


def test_the_candidate_never_sees_the_answer_or_the_checker(backend):
    answer, secret = "answer-" + os.urandom(6).hex(), "checker-" + os.urandom(6).hex()
    checker = (f"import sys\n# {secret}\nout = open(sys.argv[2]).read()\n"
               "sys.exit(0 if open(sys.argv[3]).read().strip() in out or 'checker-' in out else 1)\n")
    hunt = ("import os\nfound = []\nmarks = ('ans' + 'wer-', 'chec' + 'ker-')  # not in this file's own text\n"
            "for top in ('/work', '/tmp', '/', '/opt', '/etc', '/home', '/root', '/dev/shm'):\n"
            "    for r, ds, fs in os.walk(top):\n"
            "        ds[:] = [d for d in ds if os.path.join(r, d) not in ('/proc', '/sys', '/usr', '/dev')]\n"
            "        for f in fs:\n"
            "            try:\n"
            "                text = open(os.path.join(r, f), errors='ignore').read(1 << 20)\n"
            "            except OSError:\n"
            "                continue\n"
            "            found += [text[i:i + 19] for i in (text.find(m) for m in marks) if i >= 0]\n"
            "print(' '.join(found) or 'nothing')\n")
    tests = {"inputs": ["", ""], "outputs": [answer, answer], "checker": {"language": "python", "code": checker}}
    # Two tests: the second candidate run comes after the checker has run once with the answer.
    report = judge(hunt, PY, parse_tests(tests), backend, stop_on_failure=False)
    assert _verdicts(report) == [Verdict.wrong_answer, Verdict.wrong_answer]


@pytest.mark.parametrize("language, code", [("python", PY_PAIR_CHECKER), ("cpp", CPP_PAIR_CHECKER)])
def test_outputs_that_try_to_confuse_the_checker(backend, language, code):
    tests = {"inputs": [PAIR_INPUT], "outputs": [PAIR_ANSWER], "checker": {"language": language, "code": code}}
    hostile = {
        "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe 1 \\x00 2\\x00\\n')": Verdict.wrong_answer,  # bad UTF-8, NUL
        "import sys\nsys.stdout.write('1 2\\x00\\n')": Verdict.wrong_answer,
        "print('1 2 ' * 150000)": Verdict.wrong_answer,                  # 600 kB: the checker reads it all
        "print('1 2 ' * 1000000)": Verdict.output_limit,                 # past the limit: no checker run
        "print('1', 2)\nimport sys\nsys.stdout.flush()\nraise SystemExit(1)": Verdict.runtime_error,
    }
    for candidate, verdict in hostile.items():
        report = judge(candidate, PY, parse_tests(tests), backend)
        assert report.tests[0].verdict is verdict, (candidate, report.tests[0])


def test_reading_a_checker_run():
    assert outcome({"exit": 0, "stderr": "ok"}, 1).status == "accepted"
    assert outcome({"exit": 2}, 1).status == "wrong"
    assert outcome({"exit": 7, "stderr": "", "stdout": "partial: 0.4 of it"}, 1).score == 0.4
    assert outcome({"exit": 7, "stderr": "-3"}, 1).score == 0.0
    assert outcome({"exit": None, "signal": 9}, 1).status == "failed"


FRAGILE = ("import sys\nnumbers = lambda path: [int(x) for x in open(path).read().split()]\n"
           "sys.exit(0 if numbers(sys.argv[2]) == numbers(sys.argv[3]) else 1)\n")


def test_an_output_that_crashes_a_fragile_checker_is_a_wrong_answer_not_a_null(backend):
    # The checker crashes (ValueError) on a word where it expects a number. Were that the item's error, a
    # policy could learn to write words and turn its 0 into a null reward, which a trainer leaves out.
    tests = {"inputs": ["3"], "outputs": ["3"], "checker": {"language": "python", "code": FRAGILE}}
    report = judge("print('three')", PY, parse_tests(tests), backend)
    assert report.tests[0].verdict is Verdict.wrong_answer
    assert "it accepts the answer" in report.tests[0].detail and "ValueError" in report.tests[0].detail
    verdict = grade_code("```python\nprint('three')\n```", tests, "python", backend=backend.name)
    assert verdict.status == "ok" and verdict.score == 0.0
    assert judge("print(3)", PY, parse_tests(tests), backend).verdict is Verdict.accepted
