"""Function-call harnesses for typed languages, generated per call around the candidate's code.

Each module here turns (code, fn_name, signature) into one full source file that reads the arguments (one JSON
value per stdin line), calls the function and writes its result, in one canonical JSON form, to the file named
by ``$SANDBOX_RESULT`` (Java and JavaScript: serves the tests one request each, the result as the answer, see
:mod:`sandbox.served`); the host compares it with the expected value, which never enters the sandbox. The
language module compiles and runs that source as any other program (``stdin_program``), with the same
isolation. Python brings its own harness (``Language.function_program``) and needs no signature; with one
that names ``ListNode`` or ``TreeNode`` it gets this package's, which builds the nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sandbox.harness import cpp, go, java, javascript, python
from sandbox.languages.base import Language, Program
from sandbox.signature import NODES, Signature
from sandbox.testcases import BadTests, TestSuite

GENERATORS: dict[str, Callable[[str, str, Signature], str]] = {
    "cpp": cpp.source, "java": java.source, "javascript": javascript.source, "go": go.source}
# Tests a language cannot run although every value fits its type: (suite, signature) -> why, or None.
REFUSALS: dict[str, Callable[[TestSuite, Signature], str | None]] = {"javascript": javascript.refusal}
# Harnesses that serve all of a submission's tests in one process (sandbox.served): a JVM or a Node start
# costs 50-100 ms, a test in a warm one well under one.
SERVED = ("java", "javascript")


def _uses_nodes(sig: Signature) -> bool:
    return any(kind.base in NODES for kind in (sig.returns, *(kind for _, kind in sig.params)))


def function_program(language: Language, code: str, suite: TestSuite) -> Program | None:
    """The program that runs ``suite``'s calls in ``language``; None when the language has no harness.
    Raises :class:`BadTests` when a typed language gets tests without a signature, or tests it cannot run."""
    assert suite.fn_name is not None
    sig = suite.signature
    generate = GENERATORS.get(language.name)
    if language.name == "python" and sig is not None and _uses_nodes(sig):
        generate = python.source
    if generate is None:
        return None if language.function_program is None else language.function_program(code, suite.fn_name)
    if sig is None:
        raise BadTests(f"{language.name} function-call tests need a signature: 'params' and 'returns' are missing")
    why = REFUSALS.get(language.name, lambda *_: None)(suite, sig)
    if why:
        raise BadTests(why)
    program = language.stdin_program(generate(code, suite.fn_name, sig))
    return replace(program, served=language.name in SERVED)


__all__ = ["GENERATORS", "REFUSALS", "SERVED", "function_program"]
