"""What a language module provides: its name and aliases, and how to compile and run a program in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Program:
    """Files to write in the work dir and the argv to compile (optional) and run them."""

    files: dict[str, str]
    run: list[str]
    compile: list[str] | None = None
    python_inproc: bool = False  # the runner may run it in a fork of its own interpreter (``run`` = python3 FILE)
    served: bool = False  # it serves every test of the submission in one process (sandbox.served)


@dataclass(frozen=True)
class Language:
    name: str
    aliases: tuple[str, ...]
    compiled: bool
    stdin_program: Callable[[str], Program] = field(repr=False)  # (code) -> the program
    # (code, fn_name) -> a program that calls the function with no signature needed (Python's own harness);
    # None: function calls go through a generated harness (sandbox.harness), or are not supported
    function_program: Callable[[str, str], Program] | None = field(default=None, repr=False)

    def program(self, code: str) -> Program:
        """``code`` as a stdin/stdout program."""
        return self.stdin_program(code)
