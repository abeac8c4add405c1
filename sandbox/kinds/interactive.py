"""The ``interactive`` kind: the problem's interactor talks to the candidate, and its exit code is the verdict.

The interactor holds the answer, so it runs in a sandbox session of its own, built before the candidate runs
(as a checker program is: :mod:`sandbox.kinds.checker`); the two share nothing but the host, which pumps
what each writes to the other. Per test, both are streaming runs (:mod:`sandbox.stream`):

* the **interactor** gets the test's input as a file, its path the first argument (testlib's
  ``interactor input output``; the second, a file it may write, is ignored). The runner's protocol writes
  files once per session, not per test, so the input travels as the stream's first bytes, length-prefixed,
  and a small wrapper (``interact.py``) writes it to ``input.txt`` and becomes the interactor (``exec``; for
  Python, ``runpy`` with line-buffered stdout). The prefix lets it read exactly that much, never a byte of
  what the candidate already wrote. Its wall clock is the candidate's plus one per-test limit of its own.
* the **candidate** is its language's stdin/stdout program, with the submission's ``budget.wall()``.
  Like every judge's, it must flush after each line it writes.

Pumping is by lines (:meth:`Stream.line`), one thread per direction: interactive protocols are line based
(a query, a reply), and a line is the unit either side flushes, so nothing waits on a partial line; what a
program writes after its last newline is passed on when it ends. When one side ends, the other's stdin is
closed (it reads end of file) and it has the rest of its own wall clock to end. The candidate's lines are
counted: past ``limits.output_bytes`` (or one line that long) it is killed, its verdict ``output_limit``.
So a candidate that hangs, floods, closes its pipes or stops reading ends within its wall clock.

Judging, once both have ended: the candidate's own failure first (time, memory, a crash, a flood:
:func:`~sandbox.report.process_failure`), then the interactor's exit code read as a checker's
(:func:`sandbox.checkers.outcome`: 0 accepted, 1 and 2 wrong, 7 partial, anything else its failure). An
interactor that fails is the checkers' rule: with a ``reference`` solution, the same exchange with it
decides (accepted: the candidate broke the interactor, a wrong answer; else ``checker_error``); without one,
``checker_error``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox import checkers
from sandbox.backends.base import SessionBroken
from sandbox.kinds.base import Context
from sandbox.languages import get_language
from sandbox.languages.base import Language, Program
from sandbox.report import DETAIL_BYTES, TestReport, Verdict, clip, process_failure, timing
from sandbox.sandboxed import RECV_SLACK_S, Candidate, Sandboxed
from sandbox.stream import LineTooLong, Stream
from sandbox.testcases import BadTests, Source, TestSuite

# Runs in the interactor's sandbox as its program: reads the length-prefixed test input (exactly, by os.read:
# what follows is the candidate's), writes it to a file and becomes the interactor with its path.
WRAPPER = """\
import json, os, runpy, sys, traceback
def read(n):
    data = bytearray()
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            sys.exit(3)
        data += chunk
    return bytes(data)
size = b""
while not size.endswith(b"\\n"):
    size += read(1)
case = json.loads(read(int(size)))
try:
    data = case["input"].encode("utf-8", "surrogateescape")
except UnicodeEncodeError:
    data = case["input"].encode("utf-8", "replace")
with open("input.txt", "wb") as f:
    f.write(data)
paths = [os.path.abspath("input.txt"), os.path.abspath("output.txt")]
sys.stdout.reconfigure(line_buffering=True)
""" + checkers.LAUNCH

_VERDICTS = {checkers.ACCEPTED: Verdict.accepted, checkers.WRONG: Verdict.wrong_answer,
             checkers.PARTIAL: Verdict.partial, checkers.FAILED: Verdict.checker_error}


def wrapped(source: Source) -> Program:
    """The interactor as its sandbox runs it: its language's program, started by the wrapper."""
    lang = get_language(source.language)
    assert lang is not None
    base = lang.program(source.source)
    return Program(files={**base.files, "interact.py": WRAPPER % json.dumps(base.run)}, compile=base.compile,
                   run=["python3", "interact.py"], python_inproc=True)


def header(case_input: str) -> str:
    """The interactor's first bytes: the test input as JSON (ASCII: its length in characters is in bytes)."""
    payload = json.dumps({"input": case_input})
    return f"{len(payload)}\n{payload}"


class _Pump(threading.Thread):
    """Copies ``source``'s lines to ``sink`` until ``source`` ends, then closes ``sink``'s stdin. ``cap``:
    the bytes ``source`` may write (None: no cap); past it, or one line longer than its stream allows, it is
    killed (``cut`` says why)."""

    def __init__(self, source: Stream, sink: Stream, deadline: float, cap: int | None) -> None:
        super().__init__(daemon=True)
        self.source, self.sink, self.deadline, self.cap = source, sink, deadline, cap
        self.cut: str | None = None                    # why source was killed (it wrote too much)
        self.broken: SessionBroken | None = None       # source's sandbox failed
        self.sink_broken: SessionBroken | None = None  # sink's did (what source writes then goes nowhere)

    def run(self) -> None:
        try:
            self.cut = self._copy()
            if self.cut is not None:
                self.source.finish(RECV_SLACK_S)
        except SessionBroken as exc:
            self.broken = exc
        finally:
            try:
                self.sink.close_stdin()
            except SessionBroken:
                pass  # the other side's pump sees it too

    def _copy(self) -> str | None:
        sent = 0
        while True:
            try:
                line = self.source.line(self.deadline)
            except LineTooLong:
                return f"it wrote a line longer than {self.source.max_line_bytes} bytes"
            if line is None:
                rest = self.source.rest()
                if rest:
                    self._send(rest.decode("utf-8", "surrogateescape"))
                return None
            sent += len(line) + 1
            if self.cap is not None and sent > self.cap:
                return f"it wrote more than {self.cap} bytes"
            self._send(line.decode("utf-8", "surrogateescape") + "\n")

    def _send(self, text: str) -> None:
        if self.sink_broken is None:
            try:
                self.sink.write(text)
            except SessionBroken as exc:
                self.sink_broken = exc


@dataclass(frozen=True)
class _Ended:
    """How one exchange ended: each side's runner answer, and why a side was cut off or its sandbox failed."""

    candidate: dict[str, Any]
    interactor: dict[str, Any]
    candidate_cut: str | None
    interactor_cut: str | None


class _Interactor:
    """The interactor in its sandbox, built (a compile error is the tests' fault: BadTests)."""

    def __init__(self, source: Source, context: Context, who: str = "interactor") -> None:
        self.limits, self.who = context.limits, who
        try:
            self.sandboxed = Sandboxed(context.backend, context.limits)
        except SessionBroken as exc:
            raise SessionBroken(f"{who}: {exc}") from exc
        try:
            built = self.sandboxed.build(wrapped(source))
        except SessionBroken as exc:
            self.close()
            raise SessionBroken(f"{who}: {exc}") from exc
        except BaseException:
            self.close()
            raise
        if not built.ok:
            self.close()
            if built.answer.get("timed_out"):  # the machine's load as much as the code: not the data's fault
                raise SessionBroken(f"{who}: its {built.message(self.limits)}")
            raise BadTests(f"the {who} does not compile: {built.message(self.limits)}")

    def exchange(self, player: Sandboxed, case_input: str, wall: float) -> _Ended:
        """One test: the interactor and ``player``'s program, pumped until both end."""
        start = time.monotonic()
        lines = self.limits.output_bytes
        inter = self.sandboxed.stream(header(case_input), wall + self.limits.time_s, lines)
        try:
            cand = player.stream("", wall, lines)
        except BaseException:
            self.sandboxed.finish(inter)
            raise
        to_interactor = _Pump(cand, inter, start + wall + RECV_SLACK_S, lines)
        to_candidate = _Pump(inter, cand, start + wall + self.limits.time_s + RECV_SLACK_S, None)
        to_interactor.start()
        to_candidate.run()  # here, in this thread
        interactor_broken = to_candidate.broken or to_interactor.sink_broken
        if interactor_broken is not None:
            cand.kill()
        to_interactor.join()
        try:
            self.sandboxed.finish(inter)
        except SessionBroken as exc:
            interactor_broken = interactor_broken or exc
        candidate_broken = to_interactor.broken or to_candidate.sink_broken
        try:
            player.finish(cand)
        except SessionBroken as exc:
            candidate_broken = candidate_broken or exc
        if interactor_broken is not None:
            raise SessionBroken(f"{self.who}: {interactor_broken}")
        if candidate_broken is not None:
            raise _PlayerLost(str(candidate_broken))
        assert cand.result is not None and inter.result is not None
        return _Ended(cand.result, inter.result, to_interactor.cut, to_candidate.cut)

    def close(self) -> None:
        self.sandboxed.close()


class _PlayerLost(SessionBroken):
    """The candidate's runner stopped answering mid-exchange (a program may take its runner down with it)."""


def _candidate_failure(ended: _Ended) -> TestReport | None:
    if ended.candidate_cut is not None:
        return TestReport(Verdict.output_limit, detail=ended.candidate_cut, **timing(ended.candidate))
    return process_failure(ended.candidate)


def _said(ended: _Ended, wall: float) -> checkers.Outcome:
    if ended.interactor_cut is not None:
        return checkers.Outcome(checkers.FAILED, message=f"the interactor failed: {ended.interactor_cut}")
    return checkers.outcome(ended.interactor, wall)


class _Grader:
    """The suite's tests: one exchange each; a reference solution built only if an interactor fails."""

    borrowed: tuple[str, ...] = ()

    def __init__(self, suite: TestSuite, context: Context) -> None:
        assert suite.interactor is not None
        self.suite, self.context = suite, context
        self.interactor = _Interactor(suite.interactor, context)
        self.reference: Sandboxed | None = None

    def run(self, candidate: Candidate, index: int) -> TestReport:
        wall = candidate.budget.wall()
        if wall is None:
            return candidate.budget.spent()
        case_input = self.suite.cases[index].stdin
        try:
            ended = self.interactor.exchange(candidate.sandboxed, case_input, wall)
        except _PlayerLost as exc:
            candidate.broken = True
            return TestReport(Verdict.runtime_error,
                              detail=clip(f"the sandbox runner failed: {exc}", DETAIL_BYTES))
        failed = _candidate_failure(ended)
        if failed is not None:
            return failed
        said = _said(ended, wall)
        with candidate.budget.paused():
            if said.status == checkers.FAILED and self._accepts_reference(case_input):
                return TestReport(Verdict.wrong_answer, detail=clip(
                    f"the interactor failed with this program (it accepts the reference): {said.message}",
                    DETAIL_BYTES), **timing(ended.candidate))
        return TestReport(_VERDICTS[said.status], score=said.score,
                          detail=clip(said.message, DETAIL_BYTES) or None, **timing(ended.candidate))

    def _accepts_reference(self, case_input: str) -> bool:
        """Whether the interactor accepts the reference solution on this input (False: none is given)."""
        if self.suite.reference is None:
            return False
        if self.reference is None:
            self.reference = _built_reference(self.suite.reference, self.context)
        wall = self.context.limits.time_s
        ended = self.interactor.exchange(self.reference, case_input, wall)
        return _candidate_failure(ended) is None and _said(ended, wall).status == checkers.ACCEPTED

    def close(self) -> None:
        if self.reference is not None:
            self.reference.close()
        self.interactor.close()


def _built_reference(source: Source, context: Context) -> Sandboxed:
    lang = get_language(source.language)
    assert lang is not None
    sandboxed = Sandboxed(context.backend, context.limits)
    try:
        built = sandboxed.build(lang.program(source.source))
    except BaseException:
        sandboxed.close()
        raise
    if not built.ok:
        sandboxed.close()
        raise BadTests(f"the reference solution does not compile: {built.message(context.limits)}")
    return sandboxed


class Interactive:
    name = "interactive"

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        return language.program(code)

    def count(self, suite: TestSuite) -> int:
        return len(suite.cases)

    def start(self, suite: TestSuite, context: Context) -> _Grader:
        return _Grader(suite, context)


INTERACTIVE = Interactive()
