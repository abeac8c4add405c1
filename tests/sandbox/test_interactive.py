"""Interactive problems on both backends: guess-the-number with a query limit, judged by a Python and a C++
interactor in a sandbox of their own; candidates that hang, flood, close their pipes or stop reading get
their verdict (a 0) and never hang the grader; a broken interactor is never the candidate's 0."""

from __future__ import annotations

import pytest

from sandbox import BadTests, Limits, Verdict, get_language, judge, parse_tests

PY, CPP = get_language("python"), get_language("cpp")
LIMITS = Limits(time_s=3.0, item_time_s=60.0)
INPUTS = ["1000 700\n", "1000 1\n"]  # n and the secret; at most 11 queries

# "? y" is answered "<" (the secret is less), ">" or "="; "! y" is the answer. Past 11 queries: -1, and a wrong
# answer. Anything that is not a number makes int() raise: this interactor is fragile on purpose (exit 3).
PY_INTERACTOR = """\
import sys
n, secret = map(int, open(sys.argv[1]).read().split())
print(n)
for asked in range(12):
    line = sys.stdin.readline()
    if not line:
        sys.exit("the program ended without an answer")
    kind, _, value = line.strip().partition(" ")
    y = int(value)
    if kind == "!":
        sys.exit(0 if y == secret else f"answered {y}, the secret was {secret}")
    if asked == 11:
        print(-1)
        sys.exit("more than 11 queries")
    print("<" if secret < y else ">" if secret > y else "=")
"""

CPP_INTERACTOR = """\
#include <cstdio>
#include <cstring>
int main(int argc, char** argv) {
    FILE* in = fopen(argv[1], "r");
    long n, secret;
    if (!in || fscanf(in, "%ld %ld", &n, &secret) != 2) return 3;
    printf("%ld\\n", n); fflush(stdout);
    char kind[8]; long y;
    for (int asked = 0; asked < 12; ++asked) {
        if (scanf("%7s %ld", kind, &y) != 2) { fprintf(stderr, "no answer\\n"); return 1; }
        if (strcmp(kind, "!") == 0) return y == secret ? 0 : 1;
        if (asked == 11) { printf("-1\\n"); fflush(stdout); return 1; }
        printf("%s\\n", secret < y ? "<" : secret > y ? ">" : "="); fflush(stdout);
    }
    return 1;
}
"""

PY_BINARY = """\
lo, hi = 1, int(input())
while True:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)
    reply = input()
    if reply == "=":
        print("!", mid, flush=True)
        break
    if reply == "-1":
        break
    lo, hi = (lo, mid - 1) if reply == "<" else (mid + 1, hi)
"""
PY_LINEAR = """\
n = int(input())
for y in range(1, n + 1):
    print("?", y, flush=True)
    reply = input()
    if reply == "-1":
        break
    if reply == "=":
        print("!", y, flush=True)
        break
"""
CPP_BINARY = """\
#include <iostream>
#include <string>
int main() {
    long lo = 1, hi; std::cin >> hi;
    while (true) {
        long mid = (lo + hi) / 2;
        std::cout << "? " << mid << std::endl;
        std::string r; std::cin >> r;
        if (r == "=") { std::cout << "! " << mid << std::endl; return 0; }
        if (r != "<" && r != ">") return 0;
        if (r == "<") hi = mid - 1; else lo = mid + 1;
    }
}
"""
CPP_LINEAR = """\
#include <iostream>
#include <string>
int main() {
    long n; std::cin >> n;
    for (long y = 1; y <= n; ++y) {
        std::cout << "? " << y << std::endl;
        std::string r; std::cin >> r;
        if (r == "-1") return 0;
        if (r == "=") { std::cout << "! " << y << std::endl; return 0; }
    }
}
"""
BLIND = 'input()\nprint("! 500", flush=True)\n'
SILENT = "import time\ntime.sleep(60)\n"
FLOOD = 'import sys\nwhile True:\n    sys.stdout.write("?" * 1000 + "\\n")\n'


def _tests(interactor: str = PY_INTERACTOR, language: str = "python", **more) -> dict:
    return {"interactor": {"language": language, "source": interactor}, "inputs": INPUTS, **more}


def _judge(code, language, backend, tests=None):
    return judge(code, language, parse_tests(tests or _tests()), backend, LIMITS, stop_on_failure=False)


@pytest.mark.parametrize(("code", "language", "want"), [
    (PY_BINARY, PY, [Verdict.accepted, Verdict.accepted]),
    (PY_LINEAR, PY, [Verdict.wrong_answer, Verdict.accepted]),  # 700 is past the query limit, 1 is not
    (CPP_BINARY, CPP, [Verdict.accepted, Verdict.accepted]),
    (CPP_LINEAR, CPP, [Verdict.wrong_answer, Verdict.accepted]),
    (BLIND, PY, [Verdict.wrong_answer, Verdict.wrong_answer]),
], ids=["py-binary", "py-linear", "cpp-binary", "cpp-linear", "blind"])
def test_guess_the_number_with_a_python_interactor(backend, code, language, want):
    report = _judge(code, language, backend)
    assert [t.verdict for t in report.tests] == want and report.passed == want.count(Verdict.accepted)


@pytest.mark.parametrize(("code", "language", "want"), [
    (CPP_BINARY, CPP, Verdict.accepted), (PY_LINEAR, PY, Verdict.wrong_answer),
    (BLIND, PY, Verdict.wrong_answer)], ids=["cpp-binary", "py-linear", "blind"])
def test_guess_the_number_with_a_cpp_interactor(backend, code, language, want):
    report = _judge(code, language, backend, _tests(CPP_INTERACTOR, "cpp"))
    assert report.tests[0].verdict is want


@pytest.mark.parametrize(("code", "want"), [
    (SILENT, Verdict.time_limit),
    (FLOOD, Verdict.output_limit),
    ("import sys\nwhile True:\n    sys.stdout.write('? 1 ')\n", Verdict.output_limit),  # never a newline
    # closes its stdin at once: the interactor's replies go nowhere; it asks once and ends, unanswered
    ("import os, time\nos.close(0)\nprint('? 500', flush=True)\ntime.sleep(0.2)\n", Verdict.wrong_answer),
    # closes its stdout and waits: neither side can go on until its wall clock runs out
    ("import os, sys\ninput()\nos.close(1)\nsys.stdin.read()\n", Verdict.time_limit),
    # never reads: it asks far past the limit without reading a reply, and ends
    ("for y in range(5000):\n    print('?', y, flush=True)\n", Verdict.wrong_answer),
], ids=["silent", "flood", "no-newline", "closes-stdin", "closes-stdout", "never-reads"])
def test_hostile_candidates_get_their_verdict_and_never_hang(backend, code, want):
    report = judge(code, PY, parse_tests(_tests()), backend, LIMITS)  # stops at the first failure
    assert report.tests[0].verdict is want and report.passed == 0


def test_a_broken_interactor_is_never_the_candidates_zero_unless_the_reference_passes(backend):
    garbage = 'import sys\ninput()\nprint("? abc", flush=True)\nsys.stdin.read()\n'  # the interactor raises
    alone = judge(garbage, PY, parse_tests(_tests()), backend, LIMITS)
    assert alone.verdict is Verdict.checker_error and "ValueError" in (alone.tests[0].detail or "")
    referenced = _tests(reference={"language": "python", "source": PY_BINARY})
    judged = judge(garbage, PY, parse_tests(referenced), backend, LIMITS)
    detail = judged.tests[0].detail or ""
    assert judged.tests[0].verdict is Verdict.wrong_answer and "accepts the reference" in detail


def test_an_interactor_that_does_not_compile_is_bad_tests(backend):
    with pytest.raises(BadTests, match="the interactor does not compile"):
        _judge(PY_BINARY, PY, backend, _tests("int main() { return }", "cpp"))


@pytest.mark.parametrize(("tests", "why"), [
    ({"interactor": {"language": "python", "source": "x"}}, "interactive tests need 'inputs'"),
    ({"interactor": {"language": "python", "source": "x"}, "inputs": []}, "interactive tests need 'inputs'"),
    ({"interactor": {"language": "cobol", "source": "x"}, "inputs": ["1"]}, "not one we run"),
    ({"interactor": {"language": "cpp", "source": "  "}, "inputs": ["1"]}, "needs its code"),
    ({"interactor": "print(1)", "inputs": ["1"]}, "is {'language', 'source'}"),
    ({"interactor": {"language": "cpp", "source": "x"}, "inputs": ["1"], "outputs": ["1"]}, "not 'outputs'"),
])
def test_malformed_interactive_tests_are_bad_tests(tests, why):
    with pytest.raises(BadTests, match=why.replace("{", r"\{").replace("(", r"\(")):
        parse_tests(tests)
