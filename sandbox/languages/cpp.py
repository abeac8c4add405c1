"""C++17 with g++ -O2. Function calls run through a harness generated per signature (sandbox.harness.cpp)."""

from __future__ import annotations

from sandbox.languages.base import Language, Program


def _stdin(code: str) -> Program:
    return Program(files={"main.cpp": code}, run=["./main"],
                   compile=["g++", "-std=c++17", "-O2", "-pipe", "-o", "main", "main.cpp"])


CPP = Language("cpp", ("c++", "cc", "cxx", "cpp17", "c++17"), compiled=True, stdin_program=_stdin)
