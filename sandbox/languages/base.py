"""What a language module provides: file names, how to compile and run, and the function-call harness."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Program:
    """Files to write in the work dir and the argv to compile (optional) and run them."""

    files: dict[str, str]
    run: list[str]
    compile: list[str] | None = None
    python_inproc: bool = False  # the runner may run it in a fork of its own interpreter (``run`` = python3 FILE)


@dataclass(frozen=True)
class Language:
    name: str
    aliases: tuple[str, ...]
    compiled: bool
    stdin_program: object = field(repr=False)      # (code) -> Program
    function_program: object = field(repr=False)   # (code, fn_name) -> Program | None (None: unsupported)

    def program(self, code: str, fn_name: str | None = None) -> Program | None:
        if fn_name is None:
            return self.stdin_program(code)  # type: ignore[operator]
        return self.function_program(code, fn_name)  # type: ignore[operator]
