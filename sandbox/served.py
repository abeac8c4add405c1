"""A candidate's program that stays alive between calls: started once, asked many times.

Starting a JVM or a Node costs 50-100 ms, and a fresh process has no memory of the call before; a program
that serves requests pays the start once and keeps what a test expects to keep. It is a streaming run
(:mod:`sandbox.stream`) of the candidate's program, in the candidate's sandbox, under the submission's
budget: each request is one JSON line ``[token, request]`` on its stdin, and its answer the line
``token JSON`` on its stdout. The token is new for each request and stray output is skipped, so what the
candidate prints (or writes to its raw stdout to look like an answer) cannot stand for a later request's:
at most for the current one, which is no more than returning that value.

The host times each request (the test's wall clock: the per-test limit, or what is left of the budget): one
that runs past it is killed and is that test's ``time_limit``; one that floods or dies is that test's
failure. After any of these, or when the caller says so (:meth:`Served.reset`), the next request starts a
fresh program, so a test never inherits a broken one. What a language's server shares between requests,
and why that cannot change a verdict, is its harness's to say (:mod:`sandbox.harness`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any

from sandbox.backends.base import SessionBroken
from sandbox.report import DETAIL_BYTES, TestReport, Verdict, clip, process_failure
from sandbox.sandboxed import RECV_SLACK_S, Candidate
from sandbox.stream import LineTooLong, Stream


class _Watch:
    """A request's watchdog state: it kills the program when the wall clock runs out, unless the request
    ended first (the lock decides which came first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ended = self._killed = False

    def expire(self, stream: Stream) -> None:
        with self._lock:
            if not self._ended:
                self._killed = True
                stream.kill()

    def end(self) -> bool:
        """The request is over: whether the watchdog had killed the program."""
        with self._lock:
            self._ended = True
            return self._killed


class Reply:
    """A request's answer: the JSON value the program sent, and the wall time it took."""

    def __init__(self, value: Any, time_s: float) -> None:
        self.value, self.time_s = value, time_s


class Served:
    """The candidate's program as a server in its sandbox, started by the first request and restarted by
    the first one after :meth:`reset` or a failed request."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate
        self.limits = candidate.budget.limits
        self.stream: Stream | None = None

    def ask(self, request: object) -> Reply | TestReport:
        """``request``'s answer, or the test's report when there is none: it ran out of time, flooded its
        stdout, died, or the budget is spent. SessionBroken: the sandbox failed."""
        budget = self.candidate.budget
        wall = budget.wall()
        if wall is None:
            self.reset()
            return budget.spent()
        if self.stream is None:  # the runner's own wall clock is a backstop: the host times each request
            self.stream = self.candidate.sandboxed.stream("", self.limits.item_time_s, self.limits.output_bytes + 64)
        stream, token, watch = self.stream, secrets.token_hex(8), _Watch()
        started = time.monotonic()
        stream.write(json.dumps([token, request]) + "\n")
        timer = threading.Timer(wall, watch.expire, (stream,))
        timer.daemon = True
        timer.start()
        try:
            outcome = self._answer(stream, token.encode() + b" ", started)
        finally:
            killed = watch.end()
            timer.cancel()
        if killed:  # an answer that came as the watchdog fired was too late to count
            self.reset()
            return TestReport(Verdict.time_limit, time_s=round(time.monotonic() - started, 4))
        if isinstance(outcome, TestReport):
            self.reset()
        return outcome

    def _answer(self, stream: Stream, prefix: bytes, started: float) -> Reply | TestReport:
        """Lines until the one that answers; what else the program wrote counts against its output limit."""
        skipped = 0
        while True:
            try:
                line = stream.line(self.candidate.budget.deadline + RECV_SLACK_S)
            except LineTooLong:
                return TestReport(Verdict.output_limit, detail="it wrote a line longer than the output limit")
            except SessionBroken as exc:
                self.candidate.broken = True
                return TestReport(Verdict.runtime_error, detail=clip(f"the sandbox runner failed: {exc}", DETAIL_BYTES))
            if line is None:
                return self._ended(stream.result or {})
            if line.startswith(prefix):
                try:
                    return Reply(json.loads(line[len(prefix):]), round(time.monotonic() - started, 4))
                except ValueError:
                    return TestReport(Verdict.runtime_error, detail="the harness's answer is not JSON")
            skipped += len(line) + 1
            if skipped > self.limits.output_bytes:
                return TestReport(Verdict.output_limit)

    @staticmethod
    def _ended(result: dict[str, Any]) -> TestReport:
        """The report of a program that ended while it owed an answer."""
        failed = process_failure(result)
        if failed is not None:
            return failed
        return TestReport(Verdict.runtime_error, detail=f"the program ended (exit code {result.get('exit')}) "
                                                        "without answering")

    def reset(self) -> None:
        """End the program (killed if it still runs): the next request starts a fresh one."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            try:
                self.candidate.sandboxed.finish(stream)
            except SessionBroken:
                self.candidate.broken = True
