"""A program in a sandbox session of its own: built (compiled, or brought compiled from the backend's compile
cache), run once per test, plainly or streaming, and closed. The host's half of the runner's protocol
(:mod:`sandbox.runner`, whose message types these are).

The candidate's program is one (:class:`Candidate` adds the submission's time budget); so is every sandbox a
test kind opens for itself: a checker program, the test process of assert-style tests, an interactor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from sandbox import compile_cache
from sandbox.backends.base import Backend, SessionBroken
from sandbox.languages.base import Program
from sandbox.limits import Limits
from sandbox.report import DETAIL_BYTES, OUTPUT_BYTES, TestReport, Verdict, clip, clip_head
from sandbox.stream import Stream

if TYPE_CHECKING:
    from sandbox.runner import Answer, Build, Job, Test

RECV_SLACK_S = 5.0  # how much longer than a program's limit the runner may take to answer


class RunnerLost(SessionBroken):
    """The runner stopped answering: it died (a program may have taken it down with it) or froze."""


def compile_key(backend: Backend, program: Program, limits: Limits) -> str:
    """The key ``program``'s compile is kept under in ``backend``'s compile cache."""
    compile_limits = limits.runner_limits(backend.address_space_rlimit, backend.nproc_rlimit)[1]
    return compile_cache.key((backend.name, backend.toolchain), program, compile_limits)


def job(program: Program, limits: Limits, backend: Backend, keep: bool, cached: compile_cache.Compiled | None) -> Job:
    """The runner's job: compile and ask for what the compile makes (to ``keep`` it), or bring what an
    identical compile made (``cached``) and compile nothing."""
    run_limits, compile_limits = limits.runner_limits(backend.address_space_rlimit, backend.nproc_rlimit)
    message: Job = {"files": program.files, "compile": None if cached else program.compile, "run": program.run,
                    "limits": run_limits, "compile_limits": compile_limits, "workdir_base": backend.workdir_base,
                    "python_inproc": program.python_inproc, "sweep": backend.sweep is not None,
                    "wipe": list(backend.sweep or ())}
    if cached is not None:
        message["binary"] = cached.files
    elif keep:
        message["artifacts"] = compile_cache.ARTIFACT_BYTES
    return message


@dataclass(frozen=True)
class Built:
    """What building a program came to: the runner's compile answer (or the cached error's), and whether it
    came from the compile cache."""

    answer: Build
    cached: bool

    @property
    def ok(self) -> bool:
        return bool(self.answer.get("ok"))

    def message(self, limits: Limits) -> str:
        """Why it failed, within ``OUTPUT_BYTES`` as JSON: the compiler's first error, or its time limit."""
        if self.answer.get("timed_out"):
            return f"compilation took longer than {limits.compile_time_s:g} s"
        return clip_head((self.answer.get("stderr") or "").rstrip(), OUTPUT_BYTES)


class Sandboxed:
    """A session of ``backend``'s with ``limits``. ``in_sync`` is False while an answer is awaited: a session
    closed then is an anomaly (its runner is discarded, not handed on)."""

    def __init__(self, backend: Backend, limits: Limits) -> None:
        self.backend, self.limits = backend, limits
        self.session = backend.session(limits)
        self.in_sync = True

    def send(self, message: Job | Test) -> None:
        self.in_sync = False
        self.session.send(message)

    def recv(self, timeout: float) -> dict[str, Any]:
        """The runner's next answer; :class:`RunnerLost` when none comes, SessionBroken when it is an error."""
        try:
            answer = self.session.recv(timeout)
        except SessionBroken as exc:
            raise RunnerLost(str(exc)) from exc
        if "error" in answer:
            raise SessionBroken(str(answer["error"]))
        self.in_sync = True
        return answer

    def build(self, program: Program) -> Built:
        """Write ``program`` and compile it, or bring what an identical compile made: a compile error kept in
        the backend's cache answers without asking the runner."""
        cache = self.backend.compile_cache
        key = compile_key(self.backend, program, self.limits) if cache is not None and program.compile else None
        cached = cache.get(key) if cache is not None and key is not None else None
        if cached is not None and not cached.ok:
            return Built({"ok": False, "stderr": cached.stderr}, cached=True)
        self.send(job(program, self.limits, self.backend, key is not None, cached))
        answer = cast("Build", self.recv(min(self.limits.compile_time_s, self.limits.item_time_s) + RECV_SLACK_S)
                      ["compile"])
        if cache is not None and key is not None and cached is None:
            kept = compile_cache.entry(answer)
            if kept is not None:
                cache.put(key, kept)
        return Built(answer, cached is not None)

    def run(self, stdin: str, wall: float) -> Answer:
        """One run of the program: ``stdin`` in, at most ``wall`` seconds."""
        self.send({"stdin": stdin, "wall_s": wall})
        return cast("Answer", self.recv(wall + RECV_SLACK_S))

    def stream(self, stdin: str, wall: float, max_line_bytes: int) -> Stream:
        """A streaming run (:mod:`sandbox.stream`); :meth:`finish` ends it."""
        self.in_sync = False
        return Stream(self.session, stdin, wall, max_line_bytes)

    def finish(self, stream: Stream) -> None:
        """End ``stream`` (killed if it still runs); raises SessionBroken when the runner does not answer."""
        stream.finish(RECV_SLACK_S)
        self.in_sync = True

    def close(self) -> None:
        self.session.close(anomaly=not self.in_sync)


class Budget:
    """The submission's wall clock (``item_time_s``, from when its sandbox is asked for): each run gets the
    per-test limit or what is left. Time the host spends judging is not the candidate's (:meth:`paused`)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.item_time_s

    def wall(self) -> float | None:
        """The next run's wall clock; None once the budget is used up."""
        wall = min(self.limits.time_s, self.deadline - time.monotonic())
        return wall if wall > 0.05 else None

    def spent(self) -> TestReport:
        return TestReport(Verdict.time_limit, detail=f"the submission's {self.limits.item_time_s:g} s budget was used up")

    @contextmanager
    def paused(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.deadline += time.monotonic() - started


class Running(Protocol):
    """A program that stays alive in the candidate's sandbox between runs (:mod:`sandbox.served`)."""

    def reset(self) -> None:
        """End it (the next use starts a fresh one)."""
        ...


class Candidate:
    """The candidate's ``program``, built in its sandbox: what every test kind runs, within the ``budget``.
    ``broken``: a run took the runner down (or froze it); no test runs after that."""

    def __init__(self, sandboxed: Sandboxed, budget: Budget, program: Program) -> None:
        self.sandboxed, self.budget, self.program, self.broken = sandboxed, budget, program, False
        self.running: Running | None = None  # what a kind left running there (a served program)

    def end(self) -> None:
        """End what still runs in the sandbox, so that it can be handed on in step."""
        if self.running is not None:
            self.running.reset()

    def run(self, stdin: str) -> Answer | TestReport:
        """The runner's answer to one run, or the test's report where there is nothing to judge: the budget
        is used up, or the runner was lost (the program's runtime error). SessionBroken: the sandbox failed."""
        wall = self.budget.wall()
        if wall is None:
            return self.budget.spent()
        try:
            return self.sandboxed.run(stdin, wall)
        except RunnerLost as exc:
            self.broken = True
            return TestReport(Verdict.runtime_error, detail=clip(f"the sandbox runner failed: {exc}", DETAIL_BYTES))
