"""Special judges: how a stdin/stdout test's output is accepted when more than one output is right.

``tests.checker`` (the ``{"inputs", "outputs", "checker"}`` form only: one checker for the whole suite; the
list-of-cases form has no place for it) is either a built-in name, compared on the host like the default::

    tokens          whitespace-separated tokens equal (the default; ``limits.float_tolerance`` applies)
    lines           lines equal after each loses its trailing whitespace, trailing empty lines dropped
    float:<tol>     tokens, numeric ones within <tol> (relative, absolute below 1), e.g. ``float:1e-6``
    yes_no          tokens equal case-insensitively (YES / yes / Yes)
    unordered_lines the same multiset of stripped non-empty lines

or a program, ``{"language": "cpp" | "python", "code": ...}``, in testlib's convention: run as ``checker
input output answer`` (three file paths: the test's input, the candidate's stdout, the expected output).
Its exit code is the verdict: 0 accepted, 1 wrong answer, 2 presentation error (a wrong answer here), 7
partial credit, 3 the checker failed. testlib.h itself is in no Debian or PyPI package, so neither the image
nor the host has it: a C++ checker is self-contained (argv and exit codes are the whole convention). With
exit code 7 the score is the first number the checker wrote (stderr first, then stdout; testlib's ``quitp``
writes it first), clipped to [0, 1]; none is a checker failure. Any other ending (exit 3, another code, a
signal, a timeout, too much output, a Python exception) is a *checker failure*. Then the checker is run once
more with the answer as the output: if it accepts that, the candidate's output is what broke it, and the test
is a wrong answer (else a policy could learn to turn its 0 into a null reward by crashing a fragile checker);
if not, the checker is broken, and the item is an error, never the candidate's 0.
A checker that does not compile makes the item invalid, with the compiler's first lines.

How it runs (see :mod:`sandbox.kinds.checker`): in a second session on the candidate's backend, with the
same limits, compiled once per submission (and through the compile cache, once per grader process for a
GRPO group's shared checker), before the candidate runs (a broken checker costs no candidate run). After
each candidate run that ended normally, the checker session gets one test whose stdin is the JSON object
``{"input", "output", "answer"}``; a small wrapper (``check.py``) writes the three files into its work dir
and becomes the checker (``exec`` for C++, ``runpy`` in the runner's warm interpreter for Python). So the
runner needs nothing new, the candidate's sandbox never holds the answer or the checker, and the checker's
sandbox never holds the candidate's code. Its time does not count against the candidate's budget.

Interactive problems (:mod:`sandbox.kinds.interactive`) use the same split: the interactor holds the answer,
so it runs in a session of its own, like a checker program, never beside the candidate; the host pumps lines
between the two streaming runs, and the interactor's exit code is read as a checker's above.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sandbox.compare import same_lines, same_text, same_tokens_ignoring_case, same_unordered_lines
from sandbox.languages import get_language
from sandbox.languages.base import Program

BUILTINS = ("tokens", "lines", "float:<tol>", "yes_no", "unordered_lines")
LANGUAGES = ("cpp", "python")
ACCEPTED, WRONG, PARTIAL, FAILED = "accepted", "wrong", "partial", "failed"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# The end of a wrapper program (this one's, and the interactor's): run the program's argv (``%s``, filled in)
# with the file ``paths`` as its arguments. A Python program runs here, in the runner's warm interpreter: an exception
# is its failure (exit 3), not the wrong answer python3 would make of it (exit 1).
LAUNCH = """\
run = %s
if os.path.basename(run[0]) not in ("python3", "python"):
    os.execvp(run[0], run + paths)
sys.argv = [run[-1]] + paths
try:
    runpy.run_path(run[-1], run_name="__main__")
except SystemExit:
    raise
except BaseException:
    traceback.print_exc()
    sys.exit(3)
"""

# Runs in the checker's sandbox as its program: the test's three texts (JSON on stdin) become files in the
# work dir, then the checker runs with their paths.
WRAPPER = """\
import json, os, runpy, sys, traceback
case = json.loads(sys.stdin.read())
paths = []
for name in ("input", "output", "answer"):
    try:
        data = case[name].encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = case[name].encode("utf-8", "replace")
    with open(name + ".txt", "wb") as f:
        f.write(data)
    paths.append(os.path.abspath(name + ".txt"))
""" + LAUNCH


class BadChecker(ValueError):
    """``tests.checker`` cannot be understood."""


@dataclass(frozen=True)
class Checker:
    """A built-in comparison (``name``; ``tolerance`` for ``float:``) or a program (``language`` and ``code``)."""

    name: str | None = None
    tolerance: float | None = None
    language: str | None = None
    code: str | None = None

    @property
    def is_program(self) -> bool:
        return self.code is not None


@dataclass(frozen=True)
class Outcome:
    """What a checker program said about one output: ``ACCEPTED``, ``WRONG``, ``PARTIAL`` (with ``score``)
    or ``FAILED`` (the checker's own failure), and its message."""

    status: str
    score: float | None = None
    message: str = ""


def parse_checker(raw: Any) -> Checker:
    """A :class:`Checker` from ``tests.checker``; raises :class:`BadChecker` with the reason."""
    if isinstance(raw, str):
        name = raw.strip()
        if name in ("tokens", "lines", "yes_no", "unordered_lines"):
            return Checker(name)
        if name.startswith("float:"):
            try:
                tolerance = float(name[len("float:"):])
            except ValueError:
                tolerance = -1.0
            if not (math.isfinite(tolerance) and tolerance >= 0):
                raise BadChecker(f"checker {raw!r}: the tolerance must be a number >= 0, e.g. float:1e-6")
            return Checker("float", tolerance)
        raise BadChecker(f"unknown checker {raw!r}; built-in: {', '.join(BUILTINS)}, or "
                         "{'language': 'cpp' | 'python', 'code': ...}")
    if isinstance(raw, dict):
        lang = get_language(str(raw.get("language") or ""))
        if lang is None or lang.name not in LANGUAGES:
            raise BadChecker(f"a checker program's language must be one of {', '.join(LANGUAGES)}; got "
                             f"{raw.get('language')!r}")
        if not isinstance(raw.get("code"), str) or not raw["code"].strip():
            raise BadChecker("a checker program needs its source as 'code'")
        return Checker(language=lang.name, code=raw["code"])
    raise BadChecker(f"a checker is a built-in name or {{'language', 'code'}}; got {type(raw).__name__}")


def builtin(checker: Checker | None, tolerance: float | None) -> Callable[[str, str], bool]:
    """The host-side comparison (got, want) -> bool of a built-in checker; None is the default, ``tokens``
    with the item's ``float_tolerance``."""
    name = "tokens" if checker is None else checker.name
    if name == "float":
        assert checker is not None
        return lambda got, want: same_text(got, want, checker.tolerance)
    return {"tokens": lambda got, want: same_text(got, want, tolerance), "lines": same_lines,
            "yes_no": same_tokens_ignoring_case, "unordered_lines": same_unordered_lines}[str(name)]


def program(checker: Checker) -> Program:
    """The checker as the sandbox runs it: its language's program (compiled as any), run by the wrapper."""
    lang = get_language(str(checker.language))
    assert lang is not None and checker.code is not None
    base = lang.program(checker.code)
    assert base is not None
    return replace(base, files={**base.files, "check.py": WRAPPER % json.dumps(base.run)},
                   run=["python3", "check.py"], python_inproc=True)


def stdin(case_input: str, output: str, answer: str) -> str:
    """The checker program's stdin for one test."""
    return json.dumps({"input": case_input, "output": output, "answer": answer})


def outcome(run: Mapping[str, Any], wall_s: float) -> Outcome:
    """What the checker's run says (the runner's answer, as for any program)."""
    message = "\n".join(s for s in ((run.get("stderr") or "").strip(), (run.get("stdout") or "").strip()) if s)
    code = run.get("exit")
    if run.get("timed_out"):
        return Outcome(FAILED, message=f"the checker took longer than {wall_s:g} s")
    if run.get("output_limit"):
        return Outcome(FAILED, message="the checker wrote more than the output limit")
    if run.get("signal") is not None:
        return Outcome(FAILED, message=f"the checker was killed by signal {run['signal']}: {message}".strip())
    if code == 0:
        return Outcome(ACCEPTED, message=message)
    if code in (1, 2):
        return Outcome(WRONG, message=message)
    if code == 7:
        found = _NUMBER.search(message)
        if found is None:
            return Outcome(FAILED, message=f"the checker gave partial credit (exit 7) but no score: {message}".strip())
        return Outcome(PARTIAL, min(1.0, max(0.0, float(found.group()))), message)
    return Outcome(FAILED, message=f"the checker failed (exit code {code}): {message}".strip())
