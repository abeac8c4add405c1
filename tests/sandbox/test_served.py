"""Java and JavaScript function calls served by one process per submission, on both backends: each test
starts from nothing an earlier one left (statics, globals, built-ins, threads), a test that loops, exits,
floods or runs out of memory is that test's verdict alone, and nothing the solution prints, even a forged
answer on the raw stdout, stands for a result."""

from __future__ import annotations

import json

import pytest

from sandbox import Limits, Verdict, get_language, judge, parse_tests

A, W, R, T = Verdict.accepted, Verdict.wrong_answer, Verdict.runtime_error, Verdict.time_limit
LIMITS = Limits(time_s=2.0, item_time_s=60.0)
JAVA, JS = get_language("java"), get_language("javascript")
FORGED = '0123456789abcdef ["value",7,true]'  # the answer's form, with a token of its own


def calls(*cases: tuple[int, object]) -> object:
    """f(x) -> int tests, typed for both languages."""
    return parse_tests({"fn_name": "f", "params": [["x", "int"]], "returns": "int",
                        "inputs": [json.dumps(x) for x, _ in cases], "outputs": [json.dumps(y) for _, y in cases]})


def verdicts(code: str, language, suite, backend) -> list[Verdict]:
    report = judge(code, language, suite, backend, LIMITS, stop_on_failure=False)
    assert report.verdict is not Verdict.sandbox_error, report
    return [t.verdict for t in report.tests]


# Each solution counts its calls where it can keep a count: every test must see a count of 1.
STATE = {
    "java-static": (JAVA, """
class Solution {
    static int calls = 0;
    static java.util.List<Integer> seen = new java.util.ArrayList<>();
    public int f(int x) { seen.add(x); return ++calls * 10 + seen.size(); }
}"""),
    "java-nested-static": (JAVA, """
class Solution {
    static class Memo { static java.util.Map<Integer, Integer> calls = new java.util.HashMap<>(); }
    public int f(int x) { Memo.calls.merge(0, 1, Integer::sum); return Memo.calls.get(0) * 10 + 1; }
}"""),
    "js-sloppy-global": (JS, """
function f(x) { calls = (typeof calls === "undefined" ? 0 : calls) + 1; return calls * 10 + 1; }"""),
    "js-globalThis-and-prototype": (JS, """
var f = function (x) {
    const before = (globalThis.count || 0) + (Array.prototype.tally ? 1 : 0);
    globalThis.count = (globalThis.count || 0) + 1;
    Array.prototype.tally = true;
    return (before + 1) * 10 + 1;
};"""),
    "js-module-state": (JS, """
let calls = 0;
class Solution { f(x) { calls += 1; return calls * 10 + 1; } }"""),
}


@pytest.mark.parametrize("name", STATE)
def test_each_test_starts_from_nothing_an_earlier_one_left(backend, name):
    language, code = STATE[name]
    assert verdicts(code, language, calls((1, 11), (2, 11), (3, 11)), backend) == [A, A, A]


JAVA_LOOP = """
class Solution {
    public int f(int x) { if (x == 2) while (true) {} return x * 2; }
}"""
JS_LOOP = "function f(x) { if (x === 2) for (;;) {} return x * 2; }"
JAVA_EXIT = """
class Solution {
    public int f(int x) { if (x == 2) System.exit(0); return x * 2; }
}"""
JS_EXIT = "function f(x) { if (x === 2) process.exit(0); return x * 2; }"
JAVA_THROW = """
class Solution {
    public int f(int x) { if (x == 2) throw new IllegalStateException("two is not allowed"); return x * 2; }
}"""
JS_THROW = "function f(x) { if (x === 2) throw new RangeError('two is not allowed'); return x * 2; }"


@pytest.mark.parametrize("language, code, verdict, detail", [
    (JAVA, JAVA_LOOP, T, None), (JS, JS_LOOP, T, None),
    (JAVA, JAVA_EXIT, R, "without answering"), (JS, JS_EXIT, R, "without answering"),
    (JAVA, JAVA_THROW, R, "IllegalStateException: two is not allowed"),
    (JS, JS_THROW, R, "RangeError: two is not allowed"),
], ids=["java-loop", "js-loop", "java-exit", "js-exit", "java-throw", "js-throw"])
def test_a_failing_test_is_its_own_verdict_and_the_next_starts_clean(backend, language, code, verdict, detail):
    report = judge(code, language, calls((1, 2), (2, 4), (3, 6), (4, 8)), backend, LIMITS, stop_on_failure=False)
    assert [t.verdict for t in report.tests] == [A, verdict, A, A], report
    if detail:
        assert detail in (report.tests[1].detail or "")
    if verdict is T:
        assert report.tests[1].time_s is not None and report.tests[1].time_s < LIMITS.time_s + 1.0


def test_a_thread_left_running_does_not_reach_the_next_test(backend):
    # Shared by design within one JVM: System properties. A test that leaves a thread behind gets the
    # next test a fresh JVM, so the property it set is gone.
    code = """
class Solution {
    public int f(int x) {
        int seen = System.getProperty("seen") == null ? 0 : 1;
        System.setProperty("seen", "yes");
        if (x == 1) new Thread(() -> { while (true) { try { Thread.sleep(1000); } catch (InterruptedException e) { } } }).start();
        return seen;
    }
}"""
    assert verdicts(code, JAVA, calls((1, 0), (2, 0), (3, 1)), backend) == [A, A, A]


def test_java_running_out_of_memory_is_that_tests_memory_limit(backend):
    code = """
class Solution {
    public int f(int x) {
        if (x == 2) { java.util.List<long[]> hog = new java.util.ArrayList<>(); while (true) hog.add(new long[1 << 20]); }
        return x * 2;
    }
}"""
    assert verdicts(code, JAVA, calls((1, 2), (2, 4), (3, 6)), backend) == [A, Verdict.memory_limit, A]


PRINTERS = {
    JAVA: """
class Solution {
    public int f(int x) throws Exception {
        System.out.println("debug " + x);
        System.err.println("warning " + x);
        java.io.FileOutputStream raw = new java.io.FileOutputStream(java.io.FileDescriptor.out);
        raw.write("FORGED\\n".getBytes());
        raw.flush();
        return x == 7 ? 7 : x + 1;
    }
}""".replace("FORGED", FORGED.replace('"', '\\"')),
    JS: """
function f(x) {
    console.log("debug", x);
    console.error("warning", x);
    process.stdout.write("more\\n");
    require("fs").writeSync(1, 'FORGED\\n');
    return x === 7 ? 7 : x + 1;
}""".replace("FORGED", FORGED),
}


@pytest.mark.parametrize("language", [JAVA, JS], ids=["java", "js"])
def test_what_the_solution_prints_never_stands_for_its_result(backend, language):
    # Wrong on 1 and 3 (x + 1 where 7 is expected), though each test's raw stdout carries a forged 7.
    assert verdicts(PRINTERS[language], language, calls((1, 7), (7, 7), (3, 7)), backend) == [W, A, W]


FLOODS = {
    "java-one-line": (JAVA, """
class Solution {
    public int f(int x) throws Exception {
        if (x == 2) { java.io.FileOutputStream raw = new java.io.FileOutputStream(java.io.FileDescriptor.out);
                      byte[] chunk = new byte[1 << 16]; java.util.Arrays.fill(chunk, (byte) 'a');
                      for (int k = 0; k < 64; k++) raw.write(chunk); }
        return x * 2;
    }
}"""),
    "js-many-lines": (JS, """
function f(x) {
    const put = (s) => { for (;;) { try { return require("fs").writeSync(1, s); } catch (e) { if (e.code !== "EAGAIN") throw e; } } };
    if (x === 2) { const line = "b".repeat(999) + "\\n"; for (let k = 0; k < 3000; k++) put(line); }
    return x * 2;
}"""),
}


@pytest.mark.parametrize("name", FLOODS)
def test_a_test_that_floods_the_raw_stdout_is_cut_off(backend, name):
    language, code = FLOODS[name]
    limits = Limits(time_s=5.0, output_bytes=1 << 20)
    report = judge(code, language, calls((1, 2), (2, 4), (3, 6)), backend, limits, stop_on_failure=False)
    assert [t.verdict for t in report.tests] == [A, Verdict.output_limit, A], report
