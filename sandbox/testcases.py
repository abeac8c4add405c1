"""Test cases as public data sets ship them, normalised to one shape.

Accepted, unchanged:
* APPS / TACO / LiveCodeBench: ``{"inputs": [...], "outputs": [...]}`` (stdin/stdout), and with ``"fn_name"``
  the function-call form. An input is then either newline-separated JSON arguments (LiveCodeBench) or a list
  of arguments (APPS/TACO); an output a JSON text or a value.
* a list of ``{"input": ..., "output": ...}`` (stdin/stdout; ``"fn_name"`` on the cases makes them calls).
* assert-style test code (HumanEval, MBPP, verl's ``assert_case``): ``{"check": "def check(candidate): ...",
  "entry_point": "f"}`` as HumanEval writes it, or ``{"assert": "assert f(1) == 2\n...", "entry_point": "f"}``.
  The code never runs beside the candidate: see :mod:`sandbox.kinds.asserts`.

Stdin/stdout tests in the object form may name a checker for outputs that can be right in more than one way,
``{"inputs": [...], "outputs": [...], "checker": "float:1e-6" | {"language": "cpp", "code": ...}}``: see
:mod:`sandbox.checkers`. (Only that form: a checker is one per suite, and the list form has no place for it.)

Interactive problems, ``{"interactor": {"language": ..., "source": ...}, "inputs": [...], "reference"?: {...}}``:
the interactor talks to the candidate over its stdin/stdout, once per input (see :mod:`sandbox.kinds.interactive`).

Calls may carry a signature, ``"params": [["nums", "int[]"], ["target", "int"]], "returns": "int[]"``, which
typed languages need (see :mod:`sandbox.signature`); with one, every value is checked against its type here.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

from sandbox.checkers import BadChecker, Checker, parse_checker
from sandbox.languages import LANGUAGES, get_language
from sandbox.signature import Signature, SignatureError, canonical, parse_signature, problem

SIGNATURE_FIELDS = ("params", "returns")


class BadTests(ValueError):
    """The tests of an item cannot be understood."""


@dataclass(frozen=True)
class TestCase:
    stdin: str           # what the program reads (for calls: one JSON argument per line)
    expected: Any        # stdin/stdout: the expected text; calls: the expected JSON value
    apps_style: bool = False  # APPS wraps a call's expected value in a list: accept either


@dataclass(frozen=True)
class AssertTests:
    """Test code from a data set, run in a trusted process that reaches the candidate only through a proxy."""

    code: str
    entry_point: str
    call_check: bool  # HumanEval's form: the code defines ``check(candidate)``, called with the candidate
    setup: str | None = None  # the problem's own code (HumanEval's prompt), run first: its helpers are not
                              # the candidate's


@dataclass(frozen=True)
class Source:
    """A program the problem gives (an interactor, a reference solution): its language's canonical name."""

    language: str
    source: str


@dataclass(frozen=True)
class TestSuite:
    cases: tuple[TestCase, ...]
    fn_name: str | None = None
    signature: Signature | None = None  # calls only; None when the tests give none
    asserts: AssertTests | None = None  # assert-style test code instead of cases
    checker: Checker | None = None  # stdin/stdout only; None: tokens (with the item's float tolerance)
    interactor: Source | None = None  # interactive problems: the program that talks to the candidate
    reference: Source | None = None   # interactive problems: a known-good solution (an interactor's failure)

    @property
    def kind(self) -> str:
        """The name of the test kind that runs this suite (:mod:`sandbox.kinds`), from the form it came in."""
        if self.interactor is not None:
            return "interactive"
        if self.asserts is not None:
            return "asserts"
        if self.fn_name is not None:
            return "function"
        return "checker" if self.checker is not None and self.checker.is_program else "stdio"


def _call_input(raw: Any) -> tuple[str, bool]:
    if isinstance(raw, str):
        lines = [line for line in raw.splitlines() if line.strip()]
        for line in lines:
            try:
                json.loads(line)
            except ValueError as exc:
                raise BadTests(f"function-call input is not one JSON value per line: {line[:80]!r}") from exc
        return "\n".join(lines) + "\n", False
    if isinstance(raw, list):
        return "".join(json.dumps(arg) + "\n" for arg in raw), True
    return json.dumps(raw) + "\n", True


def _call_output(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _text(raw: Any, what: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return "\n".join(raw) + "\n"
    if isinstance(raw, int | float):
        return str(raw)
    raise BadTests(f"{what} must be text, got {type(raw).__name__}")


def _pairs(tests: Any) -> tuple[list[tuple[Any, Any]], dict[str, Any]]:
    """(input/output pairs, the call fields: fn_name, params, returns)."""
    if isinstance(tests, dict):
        inputs, outputs = tests.get("inputs"), tests.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise BadTests("tests need 'inputs' and 'outputs' lists")
        if len(inputs) != len(outputs):
            raise BadTests(f"{len(inputs)} inputs but {len(outputs)} outputs")
        return list(zip(inputs, outputs, strict=True)), {k: tests.get(k) for k in ("fn_name", *SIGNATURE_FIELDS)}
    if isinstance(tests, list):
        if not all(isinstance(c, dict) and "input" in c and "output" in c for c in tests):
            raise BadTests("a list of tests needs {'input', 'output'} objects")
        fields = {}
        for key in ("fn_name", *SIGNATURE_FIELDS):
            values = {json.dumps(c.get(key)) for c in tests}
            if len(values) > 1:
                raise BadTests(f"test cases disagree on {key!r}")
            fields[key] = tests[0].get(key) if tests else None
        return [(c["input"], c["output"]) for c in tests], fields
    raise BadTests("tests must be an object with inputs/outputs or a list of {input, output}")


def _signature(fields: dict[str, Any]) -> Signature | None:
    given = [k for k in SIGNATURE_FIELDS if fields.get(k) is not None]
    if not given:
        return None
    if len(given) < len(SIGNATURE_FIELDS):
        missing = next(k for k in SIGNATURE_FIELDS if k not in given)
        raise BadTests(f"the signature has {given[0]!r} but no {missing!r}")
    try:
        return parse_signature(fields["params"], fields["returns"])
    except SignatureError as exc:
        raise BadTests(str(exc)) from exc


def _typed_case(case: TestCase, sig: Signature, i: int) -> TestCase:
    """The case with each value checked against its type, re-encoded one JSON value per line (ASCII, so every
    harness's reader sees plain JSON), and the expected value in the form the harness writes."""
    args = [json.loads(line) for line in case.stdin.splitlines()]
    if len(args) != len(sig.params):
        raise BadTests(f"test {i}: {len(args)} arguments for {len(sig.params)} parameters")
    for arg, (name, kind) in zip(args, sig.params, strict=True):
        why = problem(arg, kind)
        if why:
            raise BadTests(f"test {i}: parameter {name!r}: {why}")
    want = case.expected
    if case.apps_style and isinstance(want, list) and len(want) == 1 and problem(want, sig.returns):
        want = want[0]  # APPS wraps the value in a list
    why = problem(want, sig.returns)
    if why:
        raise BadTests(f"test {i}: expected output: {why}")
    stdin = "".join(json.dumps(arg) + "\n" for arg in args)
    return TestCase(stdin, canonical(want, sig.returns))


ASSERT_KEYS = ("check", "assert", "test")  # HumanEval's check(candidate); asserts; a row's 'test': either


def _assert_suite(tests: dict[str, Any]) -> TestSuite:
    given = [key for key in ASSERT_KEYS if key in tests]
    if len(given) > 1:
        raise BadTests(f"give the test code once: as {' or as '.join(repr(k) for k in given)}, not both")
    key = given[0]
    code, entry_point = tests[key], tests.get("entry_point")
    if key == "test" and isinstance(code, str):
        key = "check" if re.search(r"^def check\(", code, re.M) else "assert"
    if not isinstance(code, str) or not code.strip():
        raise BadTests(f"{key!r} must be Python test code")
    if not (isinstance(entry_point, str) and entry_point.isidentifier()):
        raise BadTests(f"assert-style tests need 'entry_point', the name of the function under test; got {entry_point!r}")
    try:
        tree = ast.parse(code, "<tests>")
    except SyntaxError as exc:
        raise BadTests(f"the test code does not parse: {exc.msg} (line {exc.lineno})") from exc
    defines_check = any(isinstance(node, ast.FunctionDef) and node.name == "check" for node in tree.body)
    if key == "check" and not defines_check:
        raise BadTests("'check' test code must define check(candidate)")
    if key == "assert" and not defines_check and not any(isinstance(node, ast.Assert) for node in ast.walk(tree)):
        raise BadTests("'assert' test code has no assert statement")
    return TestSuite((), asserts=AssertTests(code, entry_point, call_check=key == "check", setup=_setup(tests)))


def _setup(tests: dict[str, Any]) -> str | None:
    """The problem's own code that the test code may use (``setup``, or HumanEval's ``prompt``), checked."""
    if "setup" in tests and "prompt" in tests:
        raise BadTests("give the problem's code as 'setup' or as 'prompt', not both")
    key = "setup" if "setup" in tests else "prompt"
    code = tests.get(key)
    if code is None:
        return None
    if not isinstance(code, str):
        raise BadTests(f"{key!r} must be Python code (the problem's helpers, e.g. HumanEval's prompt)")
    try:
        ast.parse(code, f"<{key}>")
    except SyntaxError as exc:
        raise BadTests(f"the {key} code does not parse: {exc.msg} (line {exc.lineno})") from exc
    return code


def parse_tests(tests: Any) -> TestSuite:
    """A :class:`TestSuite` from any accepted format; raises :class:`BadTests` with the reason."""
    if isinstance(tests, str):
        try:
            tests = json.loads(tests)
        except ValueError as exc:
            raise BadTests("tests are a string but not JSON") from exc
    if isinstance(tests, dict) and any(key in tests for key in ASSERT_KEYS):
        return _assert_suite(tests)
    if isinstance(tests, dict) and "interactor" in tests:
        return _interactive_suite(tests)
    pairs, fields = _pairs(tests)
    fn_name = fields["fn_name"]
    if not pairs:
        raise BadTests("no test cases")
    if fn_name is not None and not (isinstance(fn_name, str) and fn_name.isidentifier()):
        raise BadTests(f"fn_name must be an identifier, got {fn_name!r}")
    cases = []
    for i, (raw_in, raw_out) in enumerate(pairs):
        if fn_name:
            stdin, apps = _call_input(raw_in)
            cases.append(TestCase(stdin, _call_output(raw_out), apps))
        else:
            cases.append(TestCase(_text(raw_in, f"input {i}"), _text(raw_out, f"output {i}")))
    signature = _signature(fields) if fn_name else None
    if signature:
        cases = [_typed_case(case, signature, i) for i, case in enumerate(cases)]
    return TestSuite(tuple(cases), fn_name, signature, checker=_checker(tests, fn_name))


def _checker(tests: Any, fn_name: str | None) -> Checker | None:
    if isinstance(tests, list) and any("checker" in case for case in tests):
        raise BadTests("a checker goes with the {'inputs', 'outputs', 'checker'} form, once for all tests")
    if not isinstance(tests, dict) or "checker" not in tests:
        return None
    if fn_name:
        raise BadTests("a checker judges stdin/stdout output; function-call results are compared as JSON values")
    try:
        return parse_checker(tests["checker"])
    except BadChecker as exc:
        raise BadTests(str(exc)) from exc


# --- interactive problems (issue 23) ---------------------------------------------------------------------

INTERACTIVE_KEYS = ("interactor", "inputs", "reference")


def _source(raw: Any, what: str) -> Source:
    """A problem's program, ``{"language", "source"}``, in a language we run."""
    if not isinstance(raw, dict):
        raise BadTests(f"the {what} is {{'language', 'source'}}; got {type(raw).__name__}")
    lang = get_language(str(raw.get("language") or ""))
    if lang is None:
        raise BadTests(f"the {what}'s language {raw.get('language')!r} is not one we run: "
                       f"{', '.join(sorted(LANGUAGES))}")
    if not isinstance(raw.get("source"), str) or not raw["source"].strip():
        raise BadTests(f"the {what} needs its code as 'source'")
    return Source(lang.name, raw["source"])


def _interactive_suite(tests: dict[str, Any]) -> TestSuite:
    unknown = sorted(set(tests) - set(INTERACTIVE_KEYS))
    if unknown:
        raise BadTests(f"interactive tests take {', '.join(INTERACTIVE_KEYS)}; "
                       f"not {', '.join(map(repr, unknown))}")
    inputs = tests.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadTests("interactive tests need 'inputs': a non-empty list, one input per test")
    cases = tuple(TestCase(_text(raw, f"input {i}"), None) for i, raw in enumerate(inputs))
    given = tests.get("reference")
    reference = _source(given, "reference solution") if given is not None else None
    return TestSuite(cases, interactor=_source(tests["interactor"], "interactor"), reference=reference)
