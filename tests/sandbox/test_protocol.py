"""The runner's protocol is typed in sandbox/runner.py (CI runs ``mypy --strict`` on it, and mypy checks the
host's side against the same types): here, what actually crosses has exactly the typed keys, and the runner
still runs from a copy of its one file alone, with ``python3 -S`` (its annotations need nothing at run time)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

from sandbox import Limits, get_language
from sandbox.backends.base import RUNNER
from sandbox.backends.local import LocalBackend
from sandbox.compile_cache import Compiled
from sandbox.languages.base import Program
from sandbox.runner import Answer, Build, Job, RunLimits
from sandbox.sandboxed import job


def conforms(message: dict[str, Any], typed: Any) -> bool:
    """Every required key of the TypedDict ``typed`` is there, and no key it does not declare."""
    return typed.__required_keys__ <= message.keys() <= typed.__required_keys__ | typed.__optional_keys__


def test_the_jobs_the_host_writes_are_typed_jobs():
    backend = LocalBackend()
    cpp = get_language("cpp").program("int main() {}\n")
    python = get_language("python").program("print(1)\n")
    binary = Compiled(True, files={"main": ("AA==", 0o755)})
    jobs = [job(cpp, Limits(), backend, True, None), job(cpp, Limits(), backend, False, binary),
            job(python, Limits(), backend, False, None)]
    assert [sorted(set(j) - Job.__required_keys__) for j in jobs] == [["artifacts"], ["binary"], []]
    for message in jobs:
        assert conforms(message, Job), sorted(message)
        assert conforms(message["limits"], RunLimits) and conforms(message["compile_limits"], RunLimits)


def _session(runner: str, program: Program, tests: list[dict[str, Any]], cwd: str) -> list[dict[str, Any]]:
    """One session on the runner at ``runner``, run as the backends run it: its answers, in order."""
    proc = subprocess.Popen([sys.executable, "-S", runner], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=cwd, env={"PATH": os.environ["PATH"]})
    assert proc.stdin is not None and proc.stdout is not None

    def ask(message: dict[str, Any]) -> list[dict[str, Any]]:
        """``message`` sent; the runner's lines up to its answer (a streaming test's {"out"} lines first)."""
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        lines = [json.loads(proc.stdout.readline())]
        while "out" in lines[-1]:
            lines.append(json.loads(proc.stdout.readline()))
        return lines

    try:
        answers = ask(job(program, Limits(), LocalBackend(), True, None))
        for test in tests:
            answers += ask(test)
        answers += ask({"stop": True})
    finally:
        proc.kill()
        proc.wait()
    return answers


def test_a_runner_copied_alone_answers_in_the_typed_shapes(tmp_path):
    runner = str(shutil.copy(RUNNER, tmp_path / "runner.py"))  # nothing of ours beside it
    echo = Program(files={"echo.py": "import os, sys\nline = sys.stdin.readline()\nprint(line.upper(), end='')\n"
                                     "open(os.environ['SANDBOX_RESULT'], 'w').write('[1]')\n"},
                   run=["python3", "echo.py"], compile=["/bin/sh", "-c", "echo made > made.txt"])
    built, ran, end = _session(runner, echo, [{"stdin": "hello\n", "wall_s": 5.0}], str(tmp_path))
    assert built["compile"]["ok"] and conforms(built["compile"], Build)
    [(name, (data, mode))] = built["compile"]["artifacts"].items()
    assert (name, data) == ("made.txt", "bWFkZQo=") and isinstance(mode, int)  # what the compile made
    assert conforms(ran, Answer) and (ran["stdout"], ran["result"], ran["exit"]) == ("HELLO\n", "[1]", 0)
    assert end == {"end": True, "clean": True}
    streaming = Program(files={"main.py": "print(2)\n"}, run=["python3", "main.py"])
    built, out, ran, end = _session(runner, streaming, [{"stdin": "", "wall_s": 5.0, "stream": True}], str(tmp_path))
    assert built == {"compile": {"ok": True}} and conforms(built["compile"], Build)
    assert out == {"out": "2\n"} and conforms(ran, Answer) and (ran["stdout"], ran["exit"]) == ("", 0)
    assert end == {"end": True, "clean": True}
