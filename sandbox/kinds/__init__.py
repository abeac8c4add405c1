"""Test kinds: how a suite's tests run against the candidate and are judged. Each kind is one entry below,
chosen once per suite by its name (``TestSuite.kind``, which :func:`sandbox.parse_tests` decides from the
form the tests come in); :func:`sandbox.judge` runs every kind the same way, in a straight line::

    program = kind.program(code, language, suite)  # what the candidate's sandbox runs (Unsupported: not here)
    grader = kind.start(suite, context)            # the kind's own sandboxes ready, before the candidate's
    ...                                            # the candidate built in its sandbox (the compile cache)
    grader.run(candidate, i) -> TestReport         # for i in range(kind.count(suite)), until one stops it
    grader.close()

``stdio`` stdin/stdout, compared on the host (tokens, or a built-in checker: :mod:`sandbox.checkers`);
``function`` calls through a harness (:mod:`sandbox.harness`), the JSON value compared on the host;
``checker`` stdin/stdout judged by a checker program in a sandbox of its own; ``asserts`` test code in a
sandbox of its own, calling the candidate through the host.

The ``interactive`` kind (issue 23, :mod:`sandbox.kinds.interactive`) is one more module and one more entry:
``program`` is the language's stdin/stdout program; ``start`` opens the interactor's session and builds it, as
the checker kind does its checker (the interactor holds the answer: it never shares the candidate's sandbox);
``run`` starts a streaming run of the interactor (its input, sent as its first bytes, as a file) and one of
the candidate (:meth:`~sandbox.sandboxed.Sandboxed.stream`, with the candidate's ``budget.wall()``), pumps
bytes between the two streams (:class:`~sandbox.stream.Stream`) until both end, as the assert kind pumps
calls, and judges: the candidate's own failure first (:func:`~sandbox.report.process_failure`), then the
interactor's exit code read as a checker's (:func:`sandbox.checkers.outcome`). :mod:`sandbox.testcases` parses
its form and names it.
"""

from __future__ import annotations

from sandbox.kinds.asserts import ASSERTS
from sandbox.kinds.base import Context, Grader, Kind
from sandbox.kinds.checker import CHECKER
from sandbox.kinds.compared import FUNCTION, STDIO
from sandbox.kinds.interactive import INTERACTIVE
from sandbox.testcases import TestSuite

KINDS: dict[str, Kind] = {kind.name: kind for kind in (STDIO, FUNCTION, CHECKER, ASSERTS, INTERACTIVE)}


def kind_of(suite: TestSuite) -> Kind:
    return KINDS[suite.kind]


__all__ = ["KINDS", "Context", "Grader", "Kind", "kind_of"]
