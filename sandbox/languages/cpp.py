"""C++17 with g++ -O2: stdin/stdout programs. (Function-call tests need a per-signature harness; not yet.)"""

from __future__ import annotations

from sandbox.languages.base import Language, Program


def _stdin(code: str) -> Program:
    return Program(files={"main.cpp": code}, run=["./main"],
                   compile=["g++", "-std=c++17", "-O2", "-pipe", "-o", "main", "main.cpp"])


def _function(code: str, fn_name: str) -> Program | None:
    return None


CPP = Language("cpp", ("c++", "cc", "cxx", "cpp17", "c++17"), compiled=True, stdin_program=_stdin,
               function_program=_function)
