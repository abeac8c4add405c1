"""The ``asserts`` kind: test code (HumanEval's ``check(candidate)``, MBPP's and verl's ``assert f(x) == y``),
run where the candidate cannot reach it, and where it cannot reach us.

Running test code in the candidate's process lets it win without solving anything: ``os._exit(0)`` before the
asserts, a patched ``check``, an object whose ``__eq__`` is always true. And the test code is the caller's,
as untrusted as the candidate: on the host it could read the service's secrets, files and other callers'
processes. So the two run in two sandboxes of the same backend, apart, with the host between them:

* the **test process** runs the test code in a sandbox of its own (a session apart from the candidate's,
  the same limits; a streaming run, :mod:`sandbox.stream`, so that it can ask for calls while it runs), with
  the candidate's name bound to a proxy. It never sees the candidate's code;
* each **call** through the proxy is one request to the candidate's harness, which serves the test's calls
  from one process in the candidate's sandbox (:mod:`sandbox.served`): the solution is loaded once per test
  and keeps its state from call to call, as in HumanEval's own harness, where ``check`` and the solution
  share one process; each call has the per-test limits; the next test gets a fresh process;
* values cross as plain data (:mod:`sandbox.assert_values`): the test code sees ints, strings, lists... it
  built itself from JSON, never an object of the candidate's. An exception the candidate raised is re-raised
  in the test as the built-in type of that name (so ``except ValueError`` tests work), or a plain Exception;
  never as one that steers the test's control flow (``StopIteration`` would end an ``all(map(...))`` early
  and pass it, as PEP 479 says for generators).

Names the test code uses but does not define belong to the problem (HumanEval/38's ``encode_cyclic`` is in
its prompt): the tests' ``setup`` (or ``prompt``) code runs in the test process first, and its names are
taken from there. A name neither defines is a proxy to the candidate's function of that name (as when
HumanEval runs prompt, solution and test in one file), and the report says which names those were. A call
that runs out of time or memory ends the test with that verdict, whatever the test code does with the error.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

from sandbox.assert_values import decode
from sandbox.backends.base import SessionBroken
from sandbox.kinds.base import Context
from sandbox.languages.base import Language, Program
from sandbox.languages.python import FIND_FUNCTION
from sandbox.report import DETAIL_BYTES, TestReport, Unsupported, Verdict, clip, process_failure
from sandbox.sandboxed import RECV_SLACK_S, Candidate, Sandboxed
from sandbox.served import Served
from sandbox.stream import LineTooLong, Stream
from sandbox.testcases import AssertTests, BadTests, TestSuite

_HERE = Path(__file__).resolve().parents[1]
VALUES = (_HERE / "assert_values.py").read_text()
TEST_PROCESS = (_HERE / "assert_host.py").read_text()
MAX_CALLS = 100_000       # calls one test may make; more is the test looping on a candidate that never settles
MESSAGE_BYTES = 64 << 20  # the longest line the test process may send (a call's arguments)
TEST_PROGRAM = Program(files={"tests.py": VALUES + TEST_PROCESS}, run=["python3", "tests.py"], python_inproc=True)

# Serves one test's calls in the sandbox (sandbox.served): the solution loaded once, each call a request.
CALL_SERVER = VALUES + FIND_FUNCTION + '''
import os, sys
sys.setrecursionlimit(100000)
answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # what the solution prints goes nowhere
sys.stdout = open(os.devnull, "w")
namespace = {"__name__": "solution"}
exec(compile(open("solution.py").read(), "solution.py", "exec"), namespace)
for line in sys.stdin:
    token, call = json.loads(line)
    name = call["name"]
    fn = find_function(namespace, name)
    if fn is None:
        answer = {"raised": ["NameError", "the solution defines no function %r" % name]}
    else:
        try:
            value = fn(*decode(call["args"]), **{k: decode(v) for k, v in call["kwargs"].items()})
        except Exception as exc:
            answer = {"raised": [type(exc).__name__, str(exc)[:500]]}
        else:
            try:
                answer = {"value": encode(value)}
            except (TypeError, ValueError, RecursionError) as exc:
                answer = {"unusable": str(exc)}
    answers.write(token + " " + json.dumps(answer) + "\\n")
    answers.flush()
'''


class _Call:
    """What one call through the proxy came to: the reply for the test process, or the verdict that ends it."""

    def __init__(self, reply: dict[str, Any] | None = None, fatal: TestReport | None = None) -> None:
        self.reply, self.fatal = reply, fatal


def _answer(answer: object) -> _Call:
    if not isinstance(answer, dict):
        return _Call(fatal=TestReport(Verdict.runtime_error, detail="the candidate's answer is not plain data"))
    if "value" in answer:
        try:
            decode(answer["value"])  # only plain data goes on to the test
        except (ValueError, RecursionError):
            return _Call(fatal=TestReport(Verdict.runtime_error, detail="the candidate's answer is not plain data"))
        return _Call({"value": answer["value"]})
    raised = answer.get("raised")
    if isinstance(raised, list) and len(raised) == 2 and all(isinstance(x, str) for x in raised):
        if raised[0] == "MemoryError":
            return _Call(fatal=TestReport(Verdict.memory_limit, detail="MemoryError"))
        return _Call({"raised": [raised[0][:100], clip(raised[1], DETAIL_BYTES)]})
    if isinstance(answer.get("unusable"), str):
        why = clip(answer["unusable"], DETAIL_BYTES)
        return _Call(fatal=TestReport(Verdict.runtime_error, detail=f"the candidate returned {why}"))
    return _Call(fatal=TestReport(Verdict.runtime_error, detail="the candidate's answer is not plain data"))


class _TestProcess:
    """The test code's own sandbox: a session apart from the candidate's, built before it; the test process
    is a streaming run there, started when the test runs. Messages are JSON lines both ways."""

    def __init__(self, context: Context) -> None:
        self.sandboxed = Sandboxed(context.backend, context.limits)
        self.stream: Stream | None = None
        try:
            self.sandboxed.build(TEST_PROGRAM)
        except BaseException:
            self.sandboxed.close()
            raise

    def start(self, tests: AssertTests, deadline: float) -> None:
        setup = {"code": tests.code, "setup": tests.setup, "entry_point": tests.entry_point,
                 "call_check": tests.call_check, "max_calls": MAX_CALLS}
        self.stream = self.sandboxed.stream(json.dumps(setup) + "\n", max(0.1, deadline - time.monotonic()),
                                            MESSAGE_BYTES)

    def send(self, message: dict[str, Any]) -> None:
        assert self.stream is not None
        self.stream.write(json.dumps(message) + "\n")

    def recv(self, deadline: float) -> dict[str, Any] | None:
        """Its next message; None when it ran out of time; ``{"died": ...}`` when it ended without one or
        sent something that is not a message. SessionBroken when its sandbox fails."""
        assert self.stream is not None
        try:
            line = self.stream.line(deadline + RECV_SLACK_S)
        except LineTooLong:
            return {"died": "it sent a message longer than the limit"}
        if line is None:
            ended = self.stream.result or {}
            if ended.get("timed_out"):
                return None
            failed = process_failure(ended)
            return {"died": (failed.detail or failed.verdict.value) if failed else "it ended without a verdict"}
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        ok = isinstance(message, dict) and ("done" in message or "setup_failed" in message or "call" in message)
        return message if ok else {"died": "it sent something that is not a message"}

    def close(self) -> None:
        """End it (killed if it still runs) and its sandbox; a sandbox that does not answer is discarded."""
        try:
            if self.stream is not None:
                self.sandboxed.finish(self.stream)
        except SessionBroken:
            pass  # out of step: closed as an anomaly
        self.sandboxed.close()


def _call(served: Served, call: dict[str, Any]) -> _Call:
    reply = served.ask(call)
    return _Call(fatal=reply) if isinstance(reply, TestReport) else _answer(reply.value)


def _verdict(done: dict[str, Any]) -> TestReport:
    if done.get("ok"):
        if not done.get("calls"):
            raise BadTests("the test code never called the candidate: nothing was tested")
        return TestReport(Verdict.accepted)
    kind, message = str(done.get("type")), clip(str(done.get("message") or ""), DETAIL_BYTES // 2)
    if kind == "aborted":
        return TestReport(Verdict.runtime_error, detail=f"the tests called the candidate more than {MAX_CALLS} times")
    where = f" (line {done['line']} of the tests)" if done.get("line") else ""
    if done.get("candidate"):
        return TestReport(Verdict.runtime_error, detail=clip(f"the candidate raised {kind}: {message}{where}",
                                                             DETAIL_BYTES))
    if kind == "AssertionError":
        return TestReport(Verdict.wrong_answer, detail=clip(f"assertion failed{where}: {message}".rstrip(": "),
                                                            DETAIL_BYTES))
    return TestReport(Verdict.wrong_answer, detail=clip(f"the test code raised {kind}: {message}{where}",
                                                        DETAIL_BYTES))


def _run(candidate: Candidate, served: Served, test: _TestProcess) -> tuple[TestReport, tuple[str, ...]]:
    """(the test's report, the names the test took from the candidate)."""
    limits = candidate.budget.limits
    while True:
        message = test.recv(candidate.budget.deadline)
        if message is None:
            return TestReport(Verdict.time_limit, detail=f"the tests did not end within the submission's "
                                                         f"{limits.item_time_s:g} s budget"), ()
        if "done" in message:
            borrowed = message["done"].get("borrowed") or ()
            return _verdict(message["done"]), tuple(str(name)[:100] for name in borrowed[:20])
        if "died" in message or "setup_failed" in message:
            why = message.get("died") or message.get("setup_failed")
            return TestReport(Verdict.runtime_error, detail=clip(f"the test process failed: {why}",
                                                                 DETAIL_BYTES)), ()
        outcome = _call(served, message["call"])
        if outcome.fatal is not None:
            return outcome.fatal, ()
        test.send(outcome.reply or {})


def defines(code: str, name: str) -> bool:
    """Whether ``code`` parses and defines ``name``: a function, a method of a class (``class Solution``), or a
    name bound at its top level (``f = lambda ...``)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        inner = node.body if isinstance(node, ast.ClassDef) else [node]
        if any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in inner):
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
    return False


def continued(code: str, tests: AssertTests) -> str:
    """The candidate's program: ``code``, or the problem's code followed by it when the problem defines the
    entry point and ``code`` does not (a completion that continues HumanEval's prompt, a function body; as
    HumanEval's own harness and SandboxFusion read it)."""
    setup = tests.setup
    if setup and defines(setup, tests.entry_point) and not defines(code, tests.entry_point):
        return setup + code
    return code


class _Grader:
    """One test: the test code run to its end, each call through the proxy a run of the candidate."""

    def __init__(self, tests: AssertTests, context: Context) -> None:
        self.tests = tests
        self.borrowed: tuple[str, ...] = ()
        self.process = _TestProcess(context)

    def run(self, candidate: Candidate, index: int) -> TestReport:
        self.process.start(self.tests, candidate.budget.deadline)
        served = candidate.running = Served(candidate)
        try:
            report, self.borrowed = _run(candidate, served, self.process)
        finally:
            served.reset()  # the next test, if any, starts a fresh candidate
        return report

    def close(self) -> None:
        self.process.close()


class AssertStyle:
    name = "asserts"

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        """The candidate's program (see :func:`continued`) and the harness that runs one call of it."""
        if language.name != "python":
            raise Unsupported(f"assert-style tests are Python test code; they cannot test {language.name}")
        assert suite.asserts is not None
        return Program(files={"solution.py": continued(code, suite.asserts), "harness.py": CALL_SERVER},
                       run=["python3", "harness.py"], python_inproc=True, served=True)

    def count(self, suite: TestSuite) -> int:
        return 1  # accepted when the test code ends without an error

    def start(self, suite: TestSuite, context: Context) -> _Grader:
        assert suite.asserts is not None
        return _Grader(suite.asserts, context)


ASSERTS = AssertStyle()
