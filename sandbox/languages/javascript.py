"""JavaScript on Node 18+: stdin/stdout programs (CommonJS; read stdin with ``fs.readFileSync(0)`` or
``readline``). One V8 helper thread: the pids limit counts threads."""

from __future__ import annotations

from sandbox.languages.base import Language, Program


def _stdin(code: str) -> Program:
    return Program(files={"main.js": code}, run=["node", "--v8-pool-size=1", "main.js"])


JAVASCRIPT = Language("javascript", ("js", "node", "nodejs"), compiled=False, stdin_program=_stdin)
