"""Assert-style tests (HumanEval's ``check(candidate)``, MBPP's and verl's ``assert f(x) == y``), run where
the candidate cannot reach them.

Running test code in the candidate's process lets it win without solving anything: ``os._exit(0)`` before the
asserts, a patched ``check``, an object whose ``__eq__`` is always true. Here the two never share a process:

* the **test process** (trusted, on the host) runs the test code with the candidate's name bound to a proxy.
  It is data from a data set, so it is still held: no network (a seccomp filter refuses sockets and new
  programs), bounded memory, CPU time and file sizes, a fresh empty directory, nothing inherited;
* each **call** through the proxy is one run of the candidate's harness in the sandbox (stdin: the call; the
  result file: the answer), with the per-test limits, on the same warm session;
* values cross as plain data (:mod:`sandbox.assert_values`): the test code sees ints, strings, lists... it
  built itself from JSON, never an object of the candidate's. An exception the candidate raised is re-raised
  in the test as the built-in type of that name (so ``except ValueError`` tests work), or a plain Exception.

A name the test code uses but does not define (HumanEval/38 calls the prompt's ``encode_cyclic``) is a proxy
to the candidate's function of that name, as when HumanEval runs prompt, solution and test in one file. Each
call is a fresh process: state does not carry from one call to the next. A call that runs out of time or
memory ends the test with that verdict, whatever the test code does with the error.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
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
from sandbox.testcases import AssertTests, BadTests

_HERE = Path(__file__).resolve().parent
VALUES = (_HERE / "assert_values.py").read_text()
TEST_PROCESS = (_HERE / "assert_host.py").read_text()
MAX_CALLS = 100_000       # calls one test may make; more is the test looping on a candidate that never settles
TEST_MEMORY_MB = 1024     # the test process's address space
MESSAGE_BYTES = 64 << 20  # the longest line the test process may send (a call's arguments)

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


def _seccomp_hex() -> str:
    from sandbox.backends import seccomp
    try:
        return seccomp.program(extra=("socket", "socketpair", "execve", "execveat")).hex()
    except seccomp.Unsupported:
        return ""


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
    """The trusted process that runs the test code; messages are JSON lines on its stdin and stdout."""

    def __init__(self, tests: AssertTests, limits: Limits, workdir: str) -> None:
        setup = {"code": tests.code, "entry_point": tests.entry_point, "call_check": tests.call_check,
                 "seccomp": _seccomp_hex(), "memory_mb": TEST_MEMORY_MB, "cpu_s": int(limits.item_time_s) + 1,
                 "max_calls": MAX_CALLS}
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", VALUES + TEST_PROCESS], cwd=workdir, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.send(setup)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: recv says how

    def recv(self, deadline: float) -> dict[str, Any] | None:
        """Its next message; None when it ran past ``deadline``; ``{"died": ...}`` when it ended without one."""
        assert self.proc.stdout is not None
        if not self.selector.select(max(0.0, deadline - time.monotonic())):
            return None
        line = self.proc.stdout.readline(MESSAGE_BYTES)
        if not line.endswith(b"\n"):
            self.kill()
            code = self.proc.wait()
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            return {"died": how if line == b"" else "it sent a message longer than the limit"}
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        ok = isinstance(message, dict) and ("done" in message or "setup_failed" in message or "call" in message)
        return message if ok else {"died": "it sent something that is not a message"}

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.selector.close()


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


def _run(session: Session, tests: AssertTests, limits: Limits, deadline: float) -> tuple[TestReport, bool]:
    """(the test's report, whether the session is out of step: a call took its runner down)."""
    with tempfile.TemporaryDirectory(prefix="asserts-") as workdir:
        test = _TestProcess(tests, limits, workdir)
        try:
            while True:
                message = test.recv(deadline + RECV_SLACK_S)
                if message is None:
                    return TestReport(Verdict.time_limit, detail=f"the tests did not end within the submission's "
                                                                 f"{limits.item_time_s:g} s budget"), False
                if "done" in message:
                    return _verdict(message["done"]), False
                if "died" in message or "setup_failed" in message:
                    why = message.get("died") or message.get("setup_failed")
                    return TestReport(Verdict.runtime_error, detail=clip(f"the test process failed: {why}",
                                                                         DETAIL_BYTES)), False
                outcome = _call(session, message["call"], limits, deadline)
                if outcome.fatal is not None:
                    return outcome.fatal, outcome.broken
                test.send(outcome.reply or {})
        finally:
            test.kill()


def judge_asserts(code: str, language: Language, tests: AssertTests, backend: Backend, limits: Limits) -> Report:
    """Run ``tests`` against ``code``: one test, accepted when the test code ends without an error."""
    if language.name != "python":
        raise Unsupported(f"assert-style tests are Python test code; they cannot test {language.name}")
    program = Program(files={"solution.py": code, "harness.py": CALL_HARNESS}, run=["python3", "harness.py"],
                      python_inproc=True)
    deadline = time.monotonic() + limits.item_time_s
    try:
        session = backend.session(limits)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, 1, compile_output=clip(str(exc), OUTPUT_BYTES), backend=backend.name)
    anomaly = True
    try:
        session.send(_job(program, limits, backend, False, None))
        answer = session.recv(limits.compile_time_s + RECV_SLACK_S)
        if "error" in answer:
            raise SessionBroken(answer["error"])
        report, anomaly = _run(session, tests, limits, deadline)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, 1, compile_output=clip(str(exc), OUTPUT_BYTES), backend=backend.name)
    finally:
        session.close(anomaly=anomaly)
    accepted = report.verdict is Verdict.accepted
    return Report(report.verdict, int(accepted), 1, (report,), None, backend.name)
