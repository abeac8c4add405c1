"""Rust (edition 2021): stdin/stdout programs, compiled once with ``rustc -O`` (the std library only). It links
with ``gcc`` by name: ``cc`` is a link into /etc/alternatives, which bubblewrap does not bind. One codegen unit
and stripped symbols: a judged program is small, and this took a compile from 428 to 269 ms in the image."""

from __future__ import annotations

from sandbox.languages.base import Language, Program


def _stdin(code: str) -> Program:
    return Program(files={"main.rs": code}, run=["./main"],
                   compile=["rustc", "--edition", "2021", "-O", "-C", "linker=gcc", "-C", "codegen-units=1",
                            "-C", "strip=symbols", "-o", "main", "main.rs"])


RUST = Language("rust", ("rs",), compiled=True, stdin_program=_stdin)
