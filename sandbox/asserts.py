"""Assert-style tests (HumanEval's ``check(candidate)``, MBPP's and verl's ``assert f(x) == y``), run where
the candidate cannot reach them, and where they cannot reach us.

Running test code in the candidate's process lets it win without solving anything: ``os._exit(0)`` before the
asserts, a patched ``check``, an object whose ``__eq__`` is always true. And the test code is the caller's,
as untrusted as the candidate: on the host it could read the service's secrets, files and other callers'
processes. So the two run in two sandboxes of the same backend, apart, with the host between them:

* the **test process** runs the test code in a sandbox of its own (a session apart from the candidate's,
  the same limits; a streaming run, :mod:`sandbox.stream`, so that it can ask for calls while it runs), with
  the candidate's name bound to a proxy. It never sees the candidate's code;
* each **call** through the proxy is one run of the candidate's harness in the candidate's sandbox (stdin:
  the call; the result file: the answer), with the per-test limits, on the same warm session;
* values cross as plain data (:mod:`sandbox.assert_values`): the test code sees ints, strings, lists... it
  built itself from JSON, never an object of the candidate's. An exception the candidate raised is re-raised
  in the test as the built-in type of that name (so ``except ValueError`` tests work), or a plain Exception;
  never as one that steers the test's control flow (``StopIteration`` would end an ``all(map(...))`` early
  and pass it, as PEP 479 says for generators).

Names the test code uses but does not define belong to the problem (HumanEval/38's ``encode_cyclic`` is in
its prompt): the tests' ``setup`` (or ``prompt``) code runs in the test process first, and its names are
taken from there. A name neither defines is a proxy to the candidate's function of that name (as when
HumanEval runs prompt, solution and test in one file), and the report says which names those were. Each call
is a fresh process: state does not carry from one call to the next. A call that runs out of time or memory
ends the test with that verdict, whatever the test code does with the error.
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

from sandbox.assert_values import decode
from sandbox.backends.base import Backend, Session, SessionBroken
from sandbox.compare import parse_result
from sandbox.judge import (
    DETAIL_BYTES,
    OUTPUT_BYTES,
    RECV_SLACK_S,
    Report,
    TestReport,
    Unsupported,
    Verdict,
    _job,
    clip,
    process_failure,
)
from sandbox.languages import Language
from sandbox.languages.base import Program
from sandbox.languages.python import FIND_FUNCTION
from sandbox.limits import Limits
from sandbox.stream import LineTooLong, Stream
from sandbox.testcases import AssertTests, BadTests

_HERE = Path(__file__).resolve().parent
VALUES = (_HERE / "assert_values.py").read_text()
TEST_PROCESS = (_HERE / "assert_host.py").read_text()
MAX_CALLS = 100_000       # calls one test may make; more is the test looping on a candidate that never settles
MESSAGE_BYTES = 64 << 20  # the longest line the test process may send (a call's arguments)
TEST_PROGRAM = Program(files={"tests.py": VALUES + TEST_PROCESS}, run=["python3", "tests.py"], python_inproc=True)

# Runs in the sandbox once per call: the call on stdin, the answer in $SANDBOX_RESULT.
CALL_HARNESS = VALUES + FIND_FUNCTION + '''
import os, sys
sys.setrecursionlimit(100000)
namespace = {"__name__": "solution"}
exec(compile(open("solution.py").read(), "solution.py", "exec"), namespace)
call = json.loads(sys.stdin.read())
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
        except TypeError as exc:
            answer = {"unusable": str(exc)}
with open(os.environ["SANDBOX_RESULT"], "w") as out:
    json.dump(answer, out)
'''


class _Call:
    """What one call through the proxy came to: the reply for the test process, or the verdict that ends it."""

    def __init__(self, reply: dict[str, Any] | None = None, fatal: TestReport | None = None,
                 broken: bool = False) -> None:
        self.reply, self.fatal, self.broken = reply, fatal, broken


def _answer(run: dict[str, Any]) -> _Call:
    failed = process_failure(run)
    if failed is not None:
        return _Call(fatal=failed)
    ok, answer = parse_result(run.get("result"))
    if not ok or not isinstance(answer, dict):
        return _Call(fatal=TestReport(Verdict.runtime_error, detail="the candidate's process ended without answering"))
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
    """The test code's own sandbox: a session apart from the candidate's, where the test process is a
    streaming run; messages are JSON lines both ways."""

    def __init__(self, backend: Backend, tests: AssertTests, limits: Limits, deadline: float) -> None:
        self.session, self.stream = backend.session(limits), None
        try:
            self.session.send(_job(TEST_PROGRAM, limits, backend, False, None))
            answer = self.session.recv(limits.compile_time_s + RECV_SLACK_S)
            if "error" in answer:
                raise SessionBroken(answer["error"])
            setup = {"code": tests.code, "setup": tests.setup, "entry_point": tests.entry_point,
                     "call_check": tests.call_check, "max_calls": MAX_CALLS}
            self.stream = Stream(self.session, json.dumps(setup) + "\n", max(0.1, deadline - time.monotonic()),
                                 MESSAGE_BYTES)
        except BaseException:
            self.session.close(anomaly=True)
            raise

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
                self.stream.finish(RECV_SLACK_S)
        except SessionBroken:
            self.session.close(anomaly=True)
            return
        self.session.close()


def _call(session: Session, call: dict[str, Any], limits: Limits, deadline: float) -> _Call:
    wall = min(limits.time_s, deadline - time.monotonic())
    if wall <= 0.05:
        return _Call(fatal=TestReport(Verdict.time_limit, detail=f"the submission's {limits.item_time_s:g} s "
                                                                  "budget was used up"))
    session.send({"stdin": json.dumps(call), "wall_s": wall})
    try:
        run = session.recv(wall + RECV_SLACK_S)
    except SessionBroken as exc:  # the program took the runner down with it, or froze it
        return _Call(fatal=TestReport(Verdict.runtime_error, detail=clip(f"the sandbox runner failed: {exc}",
                                                                         DETAIL_BYTES)), broken=True)
    if "error" in run:
        raise SessionBroken(run["error"])
    return _answer(run)


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


def _run(session: Session, test: _TestProcess, limits: Limits, deadline: float) -> tuple[TestReport, bool, tuple]:
    """(the test's report, whether the candidate's session is out of step: a call took its runner down, the
    names the test took from the candidate)."""
    while True:
        message = test.recv(deadline)
        if message is None:
            return TestReport(Verdict.time_limit, detail=f"the tests did not end within the submission's "
                                                         f"{limits.item_time_s:g} s budget"), False, ()
        if "done" in message:
            borrowed = message["done"].get("borrowed") or ()
            return _verdict(message["done"]), False, tuple(str(name)[:100] for name in borrowed[:20])
        if "died" in message or "setup_failed" in message:
            why = message.get("died") or message.get("setup_failed")
            return TestReport(Verdict.runtime_error, detail=clip(f"the test process failed: {why}",
                                                                 DETAIL_BYTES)), False, ()
        outcome = _call(session, message["call"], limits, deadline)
        if outcome.fatal is not None:
            return outcome.fatal, outcome.broken, ()
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


def judge_asserts(code: str, language: Language, tests: AssertTests, backend: Backend, limits: Limits) -> Report:
    """Run ``tests`` against ``code`` (see :func:`continued`): one test, accepted when the test code ends
    without an error."""
    if language.name != "python":
        raise Unsupported(f"assert-style tests are Python test code; they cannot test {language.name}")
    program = Program(files={"solution.py": continued(code, tests), "harness.py": CALL_HARNESS},
                      run=["python3", "harness.py"], python_inproc=True)
    deadline = time.monotonic() + limits.item_time_s
    try:
        session = backend.session(limits)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, 1, compile_output=clip(str(exc), OUTPUT_BYTES), backend=backend.name)
    anomaly, test = True, None
    try:
        session.send(_job(program, limits, backend, False, None))
        answer = session.recv(limits.compile_time_s + RECV_SLACK_S)
        if "error" in answer:
            raise SessionBroken(answer["error"])
        test = _TestProcess(backend, tests, limits, deadline)
        report, anomaly, borrowed = _run(session, test, limits, deadline)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, 1, compile_output=clip(str(exc), OUTPUT_BYTES), backend=backend.name)
    finally:
        session.close(anomaly=anomaly)
        if test is not None:
            test.close()
    accepted = report.verdict is Verdict.accepted
    return Report(report.verdict, int(accepted), 1, (report,), None, backend.name, borrowed=borrowed)
